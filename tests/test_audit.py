"""The access log (NEN 7513): every read and change of a rit, append-only, printable."""

from __future__ import annotations

import sqlite3

import pytest

from tests.harness.form_api import api, form_api, sign_in  # noqa: F401 (api is a fixture)
from tests.harness.procs import run_ritlink


def test_reads_and_changes_are_logged_with_who_role_and_client(api):
    rit = api.new_rit()
    api.client.get(f"/api/v1/rits/{rit}")
    # A header cannot make someone else the author: the signed-in crew member is.
    api.client.get(f"/api/v1/rits/{rit}", headers={"X-Ritlink-User": "s.arts", "X-Ritlink-Role": "arts"})
    api.client.get("/api/v1/rits")
    api.client.get(f"/api/v1/rits/{rit}/entries")
    log = api.get(f"/api/v1/rits/{rit}/audit")
    rows = [(r["action"], r["user"], r["role"], r["client"]) for r in log]
    crew = ("j.devries", "ambulanceverpleegkundige", "testclient")
    assert rows == [("rit.create", *crew), ("rit.read", *crew), ("rit.read", *crew),
                    ("rit.read", *crew),  # via the list
                    ("entries.read", *crew)]
    # Reading the log is itself logged (it shows up in the next read).
    assert api.get(f"/api/v1/rits/{rit}/audit")[-1]["action"] == "audit.read"
    assert all(r["at"].endswith("Z") for r in log)


def test_the_tablet_page_read_is_logged_too(api):
    rit = api.new_rit()
    sign_in(api.client, "p.bakker")  # the next shift signs in
    assert api.client.get("/").status_code == 200
    reads = [r["user"] for r in api.get(f"/api/v1/rits/{rit}/audit") if r["action"] == "rit.read"]
    assert any("p.bakker" in user for user in reads)


def test_an_open_page_is_one_row_not_one_per_header_refresh(api):
    """The header strip polls /rits/{id}/kop every second: a page open for 60 s is one
    opening on the access log, and its 60 refreshes write nothing."""
    rit = api.new_rit()
    sign_in(api.client, "p.bakker")
    before = len(api.get(f"/api/v1/rits/{rit}/audit"))
    assert api.client.get(f"/rits/{rit}").status_code == 200  # the crew opens the rit
    for _ in range(60):  # as the page does, once a second for a minute
        assert api.client.get(f"/rits/{rit}/kop").status_code == 200
    log = api.get(f"/api/v1/rits/{rit}/audit")
    seen = [(r["action"], r["user"]) for r in log[before:] if r["action"] != "audit.read"]
    assert seen == [("rit.read", "p.bakker")]
    assert api.client.get("/rits/onbekend/kop").status_code == 404  # a refresh still checks the rit


def test_log_holds_ids_never_patient_data(api):
    rit = api.new_rit()
    api.entry(rit, "patient", {"name": "Zeldzame Naam", "bsn": "111222333"})
    api.entry(rit, "remark", {"text": "geheim detail"})
    with sqlite3.connect(api.store.path) as conn:
        dump = "\n".join(conn.iterdump())
    log_rows = [line for line in dump.splitlines() if "INSERT INTO \"access_log\"" in line]
    assert log_rows and not any("Zeldzame" in line or "111222333" in line or "geheim" in line for line in log_rows)


def test_access_log_is_append_only(api):
    rit = api.new_rit()
    conn = sqlite3.connect(api.store.path)
    try:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("UPDATE access_log SET user = 'iemand anders'")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("DELETE FROM access_log WHERE rit_id = ?", [rit])
    finally:
        conn.close()
    assert len(api.store.access_log(rit)) == 1


def test_identity_headers_are_ignored(api):
    response = api.client.get("/api/v1/rits", headers={"X-Ritlink-User": "x" * 81})
    assert response.status_code == 200


def test_ritlink_audit_cli(tmp_path, api):
    rit = api.new_rit()
    api.entry(rit, "remark", {"text": "nagekeken"})
    database = str(api.store.path)
    printed = run_ritlink("audit", "--rit", rit, "--database", database)
    assert printed.returncode == 0, printed.stderr
    lines = printed.stdout.splitlines()
    assert len(lines) == 2 and "rit.create" in lines[0] and "entry.add.remark" in lines[1]
    assert "j.devries (ambulanceverpleegkundige)" in lines[1] and "client=testclient" in lines[1]
    as_json = run_ritlink("audit", "--rit", rit, "--database", database, "--json")
    assert as_json.stdout.count("\n") == 2 and '"action": "rit.create"' in as_json.stdout

    unknown = run_ritlink("audit", "--rit", "geen-rit", "--database", database)
    assert unknown.returncode == 2 and "no access-log entries" in unknown.stderr
    missing = run_ritlink("audit", "--rit", rit, "--database", str(tmp_path / "nope.db"))
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1
