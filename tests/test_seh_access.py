"""Access control at the SEH: staff sign-in (local users, scrypt), integration tokens, a
read-only display token for the wall board, the optional sign-on header of a reverse proxy;
every view of a rit in the access log; "read" only by an explicit action."""

from __future__ import annotations

import re
import sqlite3
import warnings

import pytest

from edge.config import ApiToken, FhirToken
from seh.app import create_app
from seh.fhir_api import fhir_router
from seh.staff import SehAccess, add_user
from seh.store import SehStore
from simulators.processes import run_ritlink
from tests.test_access_control import _routes
from tests.test_fhir_seh import _applied
from tests.harness.form_api import form_api
from tests.harness.fhir_scenarios import stemi

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

TOKEN = "koppeling-0123456789abcdef"
DISPLAY = "wandscherm-0123456789abcdef"
OPEN = {"/aanmelden", "/afmelden", "/-/health", "/-/status", "/openapi.json"}  # no CDN-served /api/docs


@pytest.fixture
def seh(tmp_path):
    (tmp_path / "tablet").mkdir()
    api = form_api(tmp_path / "tablet")
    try:
        form = api.form(stemi(api))
    finally:
        api.close()
    store = SehStore(tmp_path / "seh.db", "seh-umcu")
    _applied(store, form, 1, "overdracht")
    add_user(store, "j.jansen", "lang-genoeg-wachtwoord")
    reads = []
    access = SehAccess(store, 12.0, [ApiToken(name="epd-koppeling", token=TOKEN)],
                       [ApiToken(name="wand-seh", token=DISPLAY)], "X-Remote-User", ["10.0.0.5"])
    app = create_app(store, mark_read=lambda rit_id: reads.append(rit_id) or True, seh_name="SEH UMC Utrecht",
                     routers=[fhir_router(store, [FhirToken(name="hix", token="hix-0123456789abcdef")])],
                     access=access, trusted_hosts=["testserver"])
    yield app, store, form, reads
    store.close()


def _fill(path: str, rit_id: str) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: rit_id if m.group(1) == "rit_id" else "x", path)


def _staff(app) -> TestClient:
    client = TestClient(app, follow_redirects=False)
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/aanmelden").text).group(1)
    answer = client.post("/aanmelden", data={"naam": "j.jansen", "wachtwoord": "lang-genoeg-wachtwoord",
                                              "csrf": token})
    assert answer.status_code == 303, answer.text
    return client


def test_without_sign_in_no_route_shows_a_patient(seh):
    app, store, form, reads = seh
    rit_id = form["rit_id"]
    name = form["patient"]["name"] if "name" in (form.get("patient") or {}) else None
    anonymous = TestClient(app, follow_redirects=False)
    routes = _routes(app.routes)
    assert len(routes) >= 18
    for method, path in routes:
        if path in OPEN:
            continue
        answer = anonymous.request(method, _fill(path, rit_id), data={})
        if path.startswith(("/api/v1", "/fhir/R4")):
            assert answer.status_code == 401, (method, path, answer.status_code)
        else:
            assert answer.status_code == 303 and answer.headers["location"].startswith("/aanmelden"), (method, path)
        assert rit_id not in answer.text or path.startswith("/fhir/R4")
    for path in ("/-/health", "/-/status"):
        text = anonymous.get(path).text
        assert rit_id not in text and (name is None or name not in text)
    assert reads == []

    # Signed in, the same pages and the API answer; opening a rit is logged, never "read".
    staff = _staff(app)
    for path in ("/", "/bord/rijen", f"/rits/{rit_id}", f"/rits/{rit_id}/inhoud", f"/rits/{rit_id}/versies",
                 "/api/v1/rits", f"/api/v1/rits/{rit_id}"):
        assert staff.get(path).status_code == 200, path
    assert reads == []
    views = store.query("SELECT user, action FROM seh_access_log WHERE rit_id = ? ORDER BY id", [rit_id])
    assert [v["action"] for v in views] == ["rit.view", "rit.view.refresh", "rit.versions", "rit.view.api"]
    assert {v["user"] for v in views} == {"j.jansen"}


def test_read_is_the_nurses_own_action_and_the_page_says_who_read_when(seh):
    app, store, form, reads = seh
    rit_id = form["rit_id"]
    staff = _staff(app)
    page = staff.get(f"/rits/{rit_id}").text
    assert "Nog niet als gelezen bevestigd" in page and reads == []
    csrf = re.search(r'action="/rits/[^"]+/gelezen"[^>]*>\s*<input type="hidden" name="csrf" value="([^"]+)"',
                     page).group(1)
    assert staff.post(f"/rits/{rit_id}/gelezen", data={"csrf": "vals"}).status_code == 403
    assert staff.post(f"/rits/{rit_id}/gelezen", data={"csrf": csrf}).status_code == 303
    assert reads == [rit_id]
    assert re.search(r"Gelezen door: j\.jansen \(\d\d:\d\d\)", staff.get(f"/rits/{rit_id}").text)  # local time
    # The API's read needs a sign-in, and a signed-in browser's write its CSRF header.
    assert TestClient(app).post(f"/api/v1/rits/{rit_id}/read").status_code == 401
    assert staff.post(f"/api/v1/rits/{rit_id}/read").status_code == 403
    assert TestClient(app, headers={"Authorization": f"Bearer {TOKEN}"}).post(
        f"/api/v1/rits/{rit_id}/read").status_code == 200
    assert [(r["user"], r["action"]) for r in store.query(
        "SELECT user, action FROM seh_access_log WHERE action = 'rit.read_receipt' ORDER BY id")] == [
        ("j.jansen", "rit.read_receipt"), ("epd-koppeling", "rit.read_receipt")]
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        with store.write() as db:
            db.execute("DELETE FROM seh_access_log")


def test_display_token_shows_the_board_and_nothing_else(seh):
    app, store, form, reads = seh
    wall = TestClient(app, follow_redirects=False)
    assert wall.get(f"/?display={DISPLAY}").status_code == 200
    assert wall.get("/bord/rijen").status_code == 200  # the cookie set from the token
    assert wall.get(f"/rits/{form['rit_id']}").status_code == 303
    assert wall.get("/api/v1/rits").status_code == 401
    assert TestClient(app, follow_redirects=False).get("/?display=vals-token-0123456789").status_code == 303


def test_proxy_header_only_from_the_trusted_proxy(seh, monkeypatch):
    app, store, form, reads = seh
    headers = {"X-Remote-User": "sso.gebruiker"}
    assert TestClient(app, follow_redirects=False, headers=headers).get("/").status_code == 303  # from "testclient"
    proxied = TestClient(app, follow_redirects=False, headers=headers, client=("10.0.0.5", 5000))
    assert proxied.get(f"/rits/{form['rit_id']}").status_code == 200
    assert store.query("SELECT user FROM seh_access_log")[-1]["user"] == "sso.gebruiker"


def test_wrong_passwords_back_off_and_sign_out_revokes(seh):
    app, store, form, reads = seh
    client = TestClient(app, follow_redirects=False)
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/aanmelden").text).group(1)
    wrong = client.post("/aanmelden", data={"naam": "j.jansen", "wachtwoord": "fout-wachtwoord", "csrf": token})
    assert wrong.status_code == 403 and "fout-wachtwoord" not in wrong.text
    right = client.post("/aanmelden", data={"naam": "j.jansen", "wachtwoord": "lang-genoeg-wachtwoord",
                                             "csrf": token})
    assert right.status_code == 429  # the back-off holds even for the right password
    staff = _staff_after_wait(app)
    cookie = staff.cookies.get("seh_sessie")
    assert staff.post("/afmelden").status_code == 303
    replay = TestClient(app, follow_redirects=False, cookies={"seh_sessie": cookie})
    assert replay.get(f"/rits/{form['rit_id']}").status_code == 303 and replay.get("/api/v1/rits").status_code == 401


def _staff_after_wait(app) -> TestClient:
    app.state.access.guard.succeeded("j.jansen")  # as if the back-off second had passed
    return _staff(app)


def test_seh_users_add_command(tmp_path):
    database = tmp_path / "seh.db"
    added = run_ritlink("seh-users", "add", "p.pieters", "--database", str(database), input="een-lang-wachtwoord\n")
    assert added.returncode == 0, added.stderr
    short = run_ritlink("seh-users", "add", "p.pieters", "--database", str(database), input="kort\n")
    assert short.returncode == 2 and short.stderr.count("\n") == 1
    store = SehStore(database, "seh-umcu")
    try:
        row = store.query("SELECT password_hash, role FROM seh_users WHERE name = 'p.pieters'")[0]
        assert row["password_hash"].startswith("scrypt$") and "een-lang" not in row["password_hash"]
        assert SehAccess(store).sign_in("p.pieters", "een-lang-wachtwoord")[0] is not None
    finally:
        store.close()
