"""SEH-status as units: the wire parser refuses hostile payloads, staleness is never "open",
the tablet keeps the newest status across a reopen, the source adapter reads JSON and CSV
and keeps the last status when the source breaks (issue 19, points 1 and 2)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from edge.store.rit_store import EdgeStore
from edge.sync import seh_status_inbox as inbox
from edge.wire import seh_status as ws
from seh.status import SourcePoller, read_source

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def payload(**changes) -> bytes:
    body = {"schema": ws.SCHEMA, "seh_id": "seh-umcu", "state": "seh-stop", "reason": "CT defect",
            "until": "2026-12-02T14:00:00Z", "counts": {"beds": 0, "ct": 0}, "updated_at": "2026-12-02T11:58:00Z"}
    body.update(changes)
    return json.dumps({k: v for k, v in body.items() if v is not None}).encode()


def test_a_good_status_parses_and_names_its_fields():
    status = ws.parse_status(payload(), "seh-umcu")
    assert (status.state, status.reason, status.counts, status.until) == ("seh-stop", "CT defect",
                                                                         {"beds": 0, "ct": 0}, "2026-12-02T14:00:00Z")
    assert ws.age_words(ws.age_s(status, NOW)) == "2 min geleden"


@pytest.mark.parametrize("raw, code", [
    (payload(seh_id="seh-antonius"), "topic"),                      # forged: another SEH on this topic
    (payload(state="gesloten"), "malformed"),                       # unknown state
    (payload(extra="x"), "malformed"),                              # unknown field
    (payload(counts={"beds": 10**30}), "out_of_range"),             # huge integer
    (payload(counts={"beds": 501}), "out_of_range"),                # past the sane maximum
    (payload(counts={"beds": -1}), "out_of_range"),
    (payload(counts={"beds": 1.5}), "out_of_range"),
    (payload(counts={"bedden": 3}), "malformed"),                   # unknown count
    (payload(reason="x" * 201), "malformed"),
    (payload(updated_at="gisteren"), "malformed"),
    (payload(updated_at="2026-12-02T11:58:00"), "malformed"),       # no time zone
    (payload(schema="ritlink.seh-status/2"), "unknown schema"),
    (payload(until="0001-01-01T00:00:00+01:00"), "out_of_range"),  # before the first UTC moment
    (payload(until="9999-12-31T23:59:59-01:00"), "out_of_range"),  # after the last
    (payload(reason="CT \u202edefect"), "malformed"),               # a bidi override
    (payload(reason="CT\x1b[31m"), "malformed"),                    # a terminal escape
    (b'{"schema":"ritlink.seh-status/1","seh_id":"seh-umcu","state":"open","counts":{"beds":NaN},'
     b'"updated_at":"2026-12-02T11:58:00Z"}', "malformed"),          # NaN
    (b"[" * 1000 + b"]" * 1000, "too_deep"),                    # nested
    (payload(reason={"a": {"b": {"c": 1}}}), "too_deep"),
    (b"x" * (ws.MAX_BYTES + 1), "too_large"),                       # huge
    (b"\xff\xfe", "malformed"),
    (b"", "malformed"),
])
def test_hostile_status_payloads_are_refused_with_a_reason_code(raw, code):
    with pytest.raises(ws.StatusError) as refused:
        ws.parse_status(raw, "seh-umcu")
    assert refused.value.reason.startswith(code)


def test_a_stale_or_missing_status_is_onbekend_never_open():
    fresh = ws.check(json.loads(payload(state="open")), "seh-umcu")
    assert ws.shown_state(fresh, NOW, 15 * 60) == "open"
    assert ws.shown_state(fresh, NOW + timedelta(minutes=14), 15 * 60) == "onbekend"
    assert ws.shown_state(None, NOW) == "onbekend"


def test_topics():
    assert ws.status_topic("seh-umcu") == "ritlink/v1/seh/seh-umcu/status"
    assert ws.seh_of_topic("ritlink/v1/seh/seh-umcu/status") == "seh-umcu"
    assert ws.seh_of_topic("ritlink/v1/seh/seh-umcu/from/x/status") is None


def test_the_tablet_keeps_the_newest_status_across_a_reopen(tmp_path):
    store = EdgeStore(tmp_path / "edge.db")
    newer = ws.parse_status(payload(state="druk", updated_at="2026-12-02T11:59:00Z"), "seh-umcu")
    older = ws.parse_status(payload(), "seh-umcu")
    assert inbox.keep(store, newer) is True
    assert inbox.keep(store, newer) is False        # the retained copy again
    assert inbox.keep(store, older) is False        # an older one never replaces a newer
    store.close()
    store = EdgeStore(tmp_path / "edge.db")          # a restart: the last known status is still there
    known = inbox.known(store)
    assert known["seh-umcu"].state == "druk"
    sehs = [{"id": "seh-umcu", "name": "SEH UMC Utrecht"}, {"id": "seh-antonius", "name": "SEH St. Antonius"}]
    shown = inbox.choices(sehs, known, {"seh-umcu": {"arrival_at": "2026-12-02T12:09:00Z", "seconds": 540}},
                          15 * 60, NOW)
    assert [(c["id"], c["state"], c["age_words"]) for c in shown] == [
        ("seh-umcu", "druk", "1 min geleden"), ("seh-antonius", "onbekend", "nooit ontvangen")]
    assert shown[0]["eta_seconds"] == 540
    later = inbox.choices(sehs, known, {}, 15 * 60, NOW + timedelta(hours=1))
    assert later[0]["state"] == "onbekend" and later[0]["stale"] and later[0]["reason"] == ""
    store.close()


class FakeKeeper:
    seh_id = "seh-umcu"

    def __init__(self):
        self.sets: list[dict] = []
        self.source_problem = None
        self.source_checked_at = None
        self.by = None

    def current(self):
        if not self.sets:
            return None, {}
        return ws.check({**self.sets[-1], "seh_id": "seh-umcu", "updated_at": "2026-12-02T11:58:00Z"}), {"set_by": self.by}

    def set(self, fields, set_by):
        ws.check({**fields, "seh_id": "seh-umcu", "updated_at": fields.get("updated_at") or "2026-12-02T11:58:00Z"})
        self.sets.append(fields)
        self.by = set_by


def test_the_source_adapter_reads_json_and_csv_and_keeps_the_last_status_when_broken(tmp_path):
    source = tmp_path / "status.json"
    source.write_text(json.dumps({"state": "open", "counts": {"beds": 4}}))
    keeper = FakeKeeper()
    poller = SourcePoller(keeper, str(source), interval_s=1)
    poller.poll_once()
    assert keeper.sets[-1] == {"state": "open", "counts": {"beds": 4}}
    source.write_text("state,reason,beds,ct\nseh-stop,CT defect,0,0\n")
    poller.poll_once()
    assert keeper.sets[-1] == {"state": "seh-stop", "reason": "CT defect", "counts": {"beds": 0, "ct": 0}}
    count = len(keeper.sets)
    for broken in ("{not json", "state\nopen\ndruk\n", '{"state": "gesloten"}', "state,kleur\nopen,groen\n",
                   '{"state": "open", "counts": {"beds": 1e999}}', "state,beds\nopen,veel\n"):
        source.write_text(broken)
        poller.poll_once()
        assert len(keeper.sets) == count, broken    # the last status stays
        assert keeper.source_problem and "Bron onleesbaar" in keeper.source_problem
        assert "gesloten" not in keeper.source_problem and "groen" not in keeper.source_problem  # no content
    source.unlink()
    poller.poll_once()
    assert len(keeper.sets) == count and "FileNotFoundError" in keeper.source_problem
    assert poller.counters["failures"] == 7
    source.write_text('{"state": "druk"}')
    poller.poll_once()
    assert keeper.sets[-1] == {"state": "druk"} and keeper.source_problem is None


def test_read_source_refuses_a_huge_source(tmp_path):
    big = tmp_path / "big.json"
    big.write_text('{"state": "open", "reason": "' + "x" * 70_000 + '"}')
    with pytest.raises(ValueError, match="too_large"):
        read_source(str(big))
