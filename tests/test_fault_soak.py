"""Nothing lost, nothing doubled: >= 200 changes through link cuts and >= 10 random SIGKILLs
of the tablet service, the SEH receiver and the broker (fixed seed). And the verdict itself
can fail: an acknowledged entry dropped at the SEH, one entry there twice, a save applied
twice at the tablet -- each injected on purpose, each must fail the soak."""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest

from simulators.fault_soak import Soak
from simulators.soak_check import compare_entries, entry_occurrences, seh_form_json


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_soak_loses_nothing_and_applies_nothing_twice(tmp_path):
    result = Soak(tmp_path / "soak", seed=20261124, changes=200, kills=10).run()
    assert result.changes_acknowledged >= 200
    assert sum(result.kills.values()) >= 10 and set(result.kills) == {"edge", "seh", "broker"}
    assert result.cuts >= 10
    assert result.hashes_equal, result
    assert result.entries.missing == [] and result.entries.extra == [] and result.entries.duplicated == {}, result
    assert result.passed, result


# -- the comparison on its own ------------------------------------------------------------------

def item(position: int) -> dict:
    return {"clinical_time": "2026-01-01T10:00:00.000Z", "position": position, "value": 97}


def test_comparison_passes_the_same_ids_once_each():
    check = compare_entries(["a", "b", "b"], ["a", "b"])  # "b" twice: an idempotent replay's answer
    assert check.ok and check.acknowledged == 2 and check.at_seh == 2


@pytest.mark.parametrize("at_seh, field", [(["a"], "missing"), (["a", "b", "c"], "extra"), (["a", "b", "b"], "duplicated")])
def test_comparison_fails_on_missing_extra_and_doubled_ids(at_seh, field):
    check = compare_entries(["a", "b"], at_seh)
    assert not check.ok
    assert getattr(check, field), check


def test_an_id_twice_in_the_stored_json_counts_twice():
    # A keyed JSON object cannot hold a key twice once parsed into a dict; the text can.
    text = '{"status": "update", "vitals": {"a": %s, "b": %s, "a": %s}}' % (
        json.dumps(item(1)), json.dumps(item(2)), json.dumps(item(1)))
    assert sorted(entry_occurrences(text)) == ["a", "a", "b"]


def test_an_entry_filed_in_a_second_place_counts_twice():
    text = json.dumps({"vitals": {"a": item(1)}, "remarks": {"a": item(1)}, "scores": {"news2": {"to": "x"}}})
    assert sorted(entry_occurrences(text)) == ["a", "a"]


# -- a real soak, and faults injected into it ---------------------------------------------------

SMALL = {"changes": 20, "kills": 3, "cut_every": 5}


def replay_one_save(soak: Soak, rit_id: str) -> None:
    """The client retries save 3 with its key: the tablet must answer as before, not save again."""
    first = soak.result.acknowledged[soak._key("3")]
    again = soak.change(rit_id, "3")
    assert [e["entry_id"] for e in again.json()["accepted"]] == first


@pytest.fixture(scope="module")
def small_soak(tmp_path_factory):
    work = tmp_path_factory.mktemp("soak")
    result = Soak(work, seed=7, after_changes=replay_one_save, **SMALL).run()
    return result, work / "seh.db"


def tampered(seh_db, tmp_path, rit_id, change) -> object:
    """A copy of the SEH's database with its stored form text rewritten by ``change``."""
    copy = tmp_path / "seh-copy.db"
    with sqlite3.connect(seh_db) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    text = seh_form_json(copy, rit_id)
    with sqlite3.connect(copy) as conn:  # the changed text becomes the checkpoint at the current seq
        conn.execute("UPDATE seh_forms SET form = ?, seq = (SELECT seq FROM seh_rits WHERE rit_id = ?)"
                     " WHERE rit_id = ?", [change(text), rit_id, rit_id])
    return copy


@pytest.mark.timeout(120)
def test_small_soak_passes_with_an_idempotent_replay(small_soak):
    result, _ = small_soak
    assert sum(result.kills.values()) == 3 and result.changes_acknowledged >= 20
    assert result.passed, result


@pytest.mark.timeout(120)
def test_soak_fails_when_one_acknowledged_entry_is_dropped_at_the_seh(small_soak, tmp_path):
    result, seh_db = small_soak
    victim = result.acknowledged_ids[10]

    def drop(text: str) -> str:
        form = json.loads(text)
        del form["vitals"][victim]
        return json.dumps(form)

    result.recheck(tampered(seh_db, tmp_path, result.rit_id, drop))
    try:
        assert not result.passed
        assert result.lost == 1 and result.entries.missing == [victim]
        assert result.extra == 0 and result.duplicated == 0
    finally:
        result.recheck(seh_db)


@pytest.mark.timeout(120)
def test_soak_fails_when_one_acknowledged_entry_is_there_twice(small_soak, tmp_path):
    result, seh_db = small_soak
    victim = result.acknowledged_ids[10]

    def apply_twice(text: str) -> str:
        form = json.loads(text)
        pairs = [*form["vitals"].items(), (victim, form["vitals"][victim])]
        form["vitals"] = "VITALS"
        vitals = "{" + ",".join(f"{json.dumps(k)}:{json.dumps(v)}" for k, v in pairs) + "}"
        return json.dumps(form).replace('"VITALS"', vitals)

    result.recheck(tampered(seh_db, tmp_path, result.rit_id, apply_twice))
    try:
        assert not result.passed
        assert result.duplicated == 1 and result.entries.duplicated == {victim: 2}
        assert result.lost == 0 and result.extra == 0
    finally:
        result.recheck(seh_db)


def retry_without_key(soak: Soak, rit_id: str) -> None:
    """The old client's blind retry: save 5 posted again without its Idempotency-Key."""
    response = soak.edge.post(f"/api/v1/rits/{rit_id}/vitals/accept")
    assert response.status_code == 200, response.text


@pytest.mark.timeout(180)
def test_soak_fails_when_a_save_is_applied_twice_at_the_tablet(tmp_path):
    result = Soak(tmp_path / "soak", seed=8, after_changes=retry_without_key, **SMALL).run()
    assert result.hashes_equal  # the transport did its job ...
    assert not result.passed  # ... but the SEH holds entries the client was never answered with
    assert result.extra >= 1 and result.lost == 0, result.entries
