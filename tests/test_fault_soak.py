"""Nothing lost, nothing doubled: >= 200 changes through link cuts and >= 10 random SIGKILLs
of the tablet service, the SEH receiver and the broker (fixed seed)."""

from __future__ import annotations

import pytest

from simulators.fault_soak import Soak


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_soak_loses_nothing_and_applies_nothing_twice(tmp_path):
    result = Soak(tmp_path / "soak", seed=20261124, changes=200, kills=10).run()
    assert result.changes_acknowledged >= 200
    assert sum(result.kills.values()) >= 10 and set(result.kills) == {"edge", "seh", "broker"}
    assert result.cuts >= 10
    assert result.hashes_equal, result
    assert result.lost == 0, result
    assert result.duplicated == 0, result
    assert result.entries_at_seh >= result.entries_acknowledged
