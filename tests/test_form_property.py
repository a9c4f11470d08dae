"""Property: the form is a pure function of the entry log, and merge patches between any
two versions are exact.

For random sequences of entries, corrections, withdrawals and lifecycle steps, written
through the real service and SQLite store:
- rebuilding the form from the entry log gives the incrementally maintained form and hash
  (after every step, for the log up to that step);
- the fast canonical serialisation equals canonical_json byte for byte;
- for any two versions, merge_patch_create(older, newer) applied to older gives newer.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge.store.audit import Actor
from edge.wire.canonical import canonical_json, contains_null, form_sha256, merge_patch_apply, merge_patch_create
from edge.config import load_edge_settings
from edge.form.entries import CLIENT_KINDS
from edge.errors import DomainError
from edge.form.model import COLLECTIONS, HISTORY_KINDS, build_form, collection
from edge.wire.form_hash import CanonicalForm
from edge.live.vitals import LiveVitals
from edge.service import EdgeService
from edge.store.rit_store import EdgeStore
from tests.conftest import SEHS

CREW = Actor("prop", "ambulancezorgverlener", "test")

DATA = {
    "vital": st.builds(lambda p, v: {"parameter": p, "value": v},
                       st.sampled_from(["heart_rate", "spo2", "resp_rate", "bp_systolic", "temperature"]),
                       st.sampled_from([36.5, 37.9, 80, 97, 18, 120, 95.5])),
    "gcs": st.builds(lambda e, v, m: {"eye": e, "verbal": v, "motor": m},
                     st.integers(1, 4), st.one_of(st.integers(1, 5), st.just("niet mogelijk")), st.integers(1, 6)),
    "pain": st.builds(lambda n: {"nrs": n}, st.integers(0, 10)),
    "disability": st.builds(lambda a: {"acvpu": a}, st.sampled_from("ACVPU")),
    "breathing": st.builds(lambda d, f: {"oxygen_device": d, "oxygen_flow_l_min": f},
                           st.sampled_from(["kamerlucht", "neusbril", "non_rebreathing"]), st.sampled_from([0, 2, 15])),
    "medication": st.builds(lambda dose: {"drug": "fentanyl", "dose": dose, "unit": "ug", "route": "iv"},
                            st.sampled_from([25, 50, 100])),
    "patient": st.fixed_dictionaries({}, optional={"sex": st.sampled_from(["M", "F", "UNK"]),
                                                   "name": st.text("abcé ", min_size=1, max_size=8),
                                                   "estimated_age_years": st.integers(1, 90)}).filter(bool),
    "time": st.builds(lambda w, m: {"which": w, "at": f"2025-03-01T10:{m:02d}:00+01:00"},
                      st.sampled_from(["vertrek", "ter_plaatse", "aankomst_seh"]), st.integers(0, 59)),
    "remark": st.builds(lambda t: {"text": t}, st.text(min_size=1, max_size=12).filter(str.strip)),
    "treatment_limits": st.sampled_from([{"status": "geen"}, {"status": "bekend", "limits": ["niet_reanimeren"]},
                                         {"not_state": "niet mogelijk"}]),
    "diagnosis": st.builds(lambda t: {"text": t}, st.sampled_from(["ACS", "CVA", "sepsis"])),
    "spo2_scale": st.builds(lambda s: {"scale": s}, st.sampled_from([1, 2])),
}
ADD = st.sampled_from(sorted(DATA)).flatmap(lambda kind: DATA[kind].map(lambda d: ("add", kind, d)))
CORRECT = st.tuples(st.just("correct"), st.integers(0, 1000), st.booleans(), st.randoms(use_true_random=False))
LIFECYCLE = st.sampled_from([("announce",), ("cancel",), ("overdracht",), ("destination", "seh-antonius"),
                             ("destination", "seh-umcu")])
OPERATIONS = st.lists(st.one_of(ADD, ADD, ADD, CORRECT, LIFECYCLE), min_size=1, max_size=14)


def _run(service: EdgeService, rit_id: str, op: tuple) -> None:
    kind = op[0]
    if kind == "add":
        service.add_entry(rit_id, op[1], CLIENT_KINDS[op[1]].model_validate(op[2]), actor=CREW,
                          nagekomen=service.store.rit(rit_id)["form"]["status"] == "overdracht")
    elif kind == "correct":
        targets = [e for e in service.store.entries(rit_id) if e["kind"] in DATA]
        replaced = {e.get("replaces") for e in service.store.entries(rit_id)}
        targets = [e for e in targets if e["entry_id"] not in replaced and not e.get("withdrawn")]
        if not targets:
            return
        target = targets[op[1] % len(targets)]
        data = None if op[2] else _redraw(target, op[3])  # withdraw, or replace with new data
        service.correct_entry(rit_id, target["entry_id"], actor=CREW, reason="correctie", data=data,
                              withdraw=data is None,
                              nagekomen=service.store.rit(rit_id)["form"]["status"] == "overdracht")
    elif kind == "announce":
        service.announce(rit_id, actor=CREW)
    elif kind == "cancel":
        service.cancel(rit_id, "niet_vervoerd", actor=CREW)
    elif kind == "overdracht":
        service.overdracht(rit_id, actor=CREW, onvolledig=True)
    else:
        service.change_destination(rit_id, op[1], actor=CREW)


def _redraw(target: dict, rnd) -> dict:
    """New data of the same kind: the old data with one value nudged (deterministic per example)."""
    data = dict(target["data"])
    if target["kind"] == "vital":
        data = {"parameter": data["parameter"], "value": rnd.choice([37.0, 81, 96, 19, 125])}
    elif target["kind"] in ("remark", "diagnosis"):
        data = {"text": data["text"] + " (gecorrigeerd)"}
    elif target["kind"] == "time":
        data["at"] = f"2025-03-01T11:{rnd.randint(0, 59):02d}:00+01:00"
    elif target["kind"] == "pain":
        data = {"nrs": rnd.randint(0, 10)}
    else:
        return {k: v for k, v in data.items() if k not in ("label", "unit", "code", "loinc", "given_by")}
    return data


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(OPERATIONS)
def test_rebuild_equals_incremental_and_patches_are_exact(operations):
    with tempfile.TemporaryDirectory() as tmp:
        config = load_edge_settings(None, database=Path(tmp) / "edge.db", sehs=SEHS)
        store = EdgeStore(config.database)
        try:
            service = EdgeService(config, store, LiveVitals())
            rit_id = service.create_rit("seh-umcu", "A2", actor=CREW)["rit_id"]
            versions = [store.rit(rit_id)]
            for op in operations:
                try:
                    _run(service, rit_id, op)
                except DomainError:
                    pass  # refused by the rules (e.g. announce twice): nothing recorded
                versions.append(store.rit(rit_id))
            entries = store.entries(rit_id)
            header = {k: versions[0][k] for k in ("rit_id", "vehicle_id", "created_at")}

            for version in versions:
                prefix = [e for e in entries if e["position"] <= _last_position(version)]
                rebuilt = build_form(header, prefix)
                assert rebuilt == version["form"]
                assert form_sha256(rebuilt) == version["form_sha256"]
                assert CanonicalForm().canonical(version["form"]) == canonical_json(version["form"])
                assert not contains_null(version["form"])

            assert store.rebuild_form(rit_id) == versions[-1]["form"]
            forms = [v["form"] for v in versions]
            for i, older in enumerate(forms):
                for newer in forms[i + 1:]:
                    assert merge_patch_apply(older, merge_patch_create(older, newer)) == newer
        finally:
            store.close()


def _last_position(version: dict) -> int:
    """The log position a stored version reflects: the form's own items say which entries it holds."""
    form = version["form"]
    positions = [0]
    for collection in _collections(form):
        positions.extend(item["position"] for item in collection.values())
    return max(positions)


def _collections(form: dict):
    for kind in [*COLLECTIONS, *HISTORY_KINDS]:
        yield collection(form, kind)
