"""Retention: finished rits leave the tablet after the configured time once the SEH has read
the overdracht; the access log keeps every row plus the purge itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.harness.form_api import api, form_api  # noqa: F401 (api is a fixture)
from tests.harness.procs import run_ritlink

LATER = datetime.now(UTC) + timedelta(hours=25)  # past the default 24 h retention


def _handed_over(api, idempotency_key: str | None = None) -> str:
    rit = api.new_rit()
    api.entry(rit, "patient", {"name": "Te Vergeten", "sex": "F"})
    api.post(f"/api/v1/rits/{rit}/overdracht", {"onvolledig": True}, 202,
             **({"Idempotency-Key": idempotency_key} if idempotency_key else {}))
    return rit


def _seh_receipts(api, rit: str, read: bool) -> None:
    """What the MQTT sync does: publish (freeze), broker ack, SEH delivered and read receipts."""
    for row in api.store.messages_to_send():
        api.store.freeze(row["msg_id"])
        api.store.advance(row["msg_id"], "sent")
        api.store.advance(row["msg_id"], "delivered")
        if read:
            api.store.mark_read_up_to(rit, row["seh_id"], row["seq"])


def _count(api, table: str, rit: str) -> int:
    return api.store.query(f"SELECT count(*) AS n FROM {table} WHERE rit_id = ?", [rit])[0]["n"]


def test_read_overdracht_is_purged_after_retention_and_the_purge_is_logged(api):
    rit = _handed_over(api, "key-1")
    _seh_receipts(api, rit, read=True)
    assert api.service.purge_expired() == []  # not yet: 24 h have not passed
    assert api.service.purge_expired(now=LATER) == [rit]

    for table in ("rits", "entries", "outbox", "streams", "idempotency"):
        assert _count(api, table, rit) == 0, table
    assert api.client.get(f"/api/v1/rits/{rit}").status_code == 404
    log = api.store.access_log(rit)
    assert [r["action"] for r in log][:3] == ["rit.create", "entry.add.patient", "rit.overdracht"]
    purge = log[-1]
    assert (purge["action"], purge["user"], purge["role"]) == ("rit.purge", "ritlink", "systeem")
    assert purge["detail"] == {"entries": 6, "messages": 1}
    assert api.service.purge_expired(now=LATER) == []


def test_kept_while_the_seh_has_not_read_it(api):
    rit = _handed_over(api)
    assert api.service.purge_expired(now=LATER) == []  # never sent
    _seh_receipts(api, rit, read=False)
    assert api.service.purge_expired(now=LATER) == []  # delivered, not read
    assert _count(api, "rits", rit) == 1


def test_active_rits_are_never_purged(api):
    rit = api.new_rit()
    api.post(f"/api/v1/rits/{rit}/announce", None, 202)
    _seh_receipts(api, rit, read=True)
    assert api.service.purge_expired(now=LATER) == []


def test_cancelled_rits(api):
    never_announced = api.new_rit()
    api.post(f"/api/v1/rits/{never_announced}/cancel", {"reason": "loos_alarm"}, 202)
    announced = api.new_rit()
    api.post(f"/api/v1/rits/{announced}/announce", None, 202)
    api.post(f"/api/v1/rits/{announced}/cancel", {"reason": "niet_vervoerd"}, 202)
    assert api.service.purge_expired(now=LATER) == [never_announced]  # nothing to wait for
    _seh_receipts(api, announced, read=False)  # a cancellation needs only the delivered receipt
    assert api.service.purge_expired(now=LATER) == [announced]


def test_retention_hours_is_configurable(tmp_path):
    api = form_api(tmp_path, retention_hours=0.5)
    try:
        rit = _handed_over(api)
        _seh_receipts(api, rit, read=True)
        assert api.service.purge_expired(now=datetime.now(UTC) + timedelta(minutes=20)) == []
        assert api.service.purge_expired(now=datetime.now(UTC) + timedelta(minutes=40)) == [rit]
    finally:
        api.close()


def test_ritlink_purge_cli(tmp_path):
    api = form_api(tmp_path)
    rit = _handed_over(api)
    _seh_receipts(api, rit, read=True)
    api.close()
    config = tmp_path / "edge.toml"
    config.write_text(f'database = "{tmp_path / "edge.db"}"\nretention_hours = 0.000001\n')
    printed = run_ritlink("purge", "--config", str(config))
    assert printed.returncode == 0, printed.stderr
    assert f"purged 1 rit(s)\n  {rit}" in printed.stdout
    audit = run_ritlink("audit", "--rit", rit, "--config", str(config))
    assert audit.stdout.splitlines()[-1].split()[1:4] == ["ritlink", "(systeem)", "rit.purge"]
