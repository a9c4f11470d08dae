"""Access control on the tablet: /api/v1 and the pages only for the signed-in shift or a
configured device token, the PIN behind back-off and lock-out, sessions revoked at sign-out
and ended with the shift, Host check, body cap, answers that echo nothing."""

from __future__ import annotations

import re
import warnings
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.routing import APIRoute

from simulators.processes import AUTH_HEADERS, PIN, run_ritlink
from tests.harness.form_api import CREW, device_client, form_api, sign_in
from web.app import create_app
from web.passwords import hash_secret, verify
from web.pin_guard import LOCK_S, SignInGuard
from web.session import ShiftAuth

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

OPEN_PATHS = {"/aanmelden", "/thema", "/-/health", "/-/status", "/api/docs", "/api/openapi.json"}


def _routes(routes, prefix: str = "") -> list[tuple[str, str]]:
    """Every (method, path) the app serves, read from the app itself (included routers too):
    a route added later is in here without anyone remembering to list it."""
    found = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.extend((m, prefix + route.path) for m in sorted(route.methods - {"HEAD"}))
        elif hasattr(route, "original_router"):  # FastAPI's included router
            found.extend(_routes(route.original_router.routes, prefix + (route.include_context.prefix or "")))
    return found


KNOWN = {"form_id": "A", "what": "overdracht"}  # values a page knows, so it gets as far as its sign-in check


def _fill(path: str, rit_id: str) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: rit_id if m.group(1) == "rit_id" else KNOWN.get(m.group(1), "x"), path)


@pytest.fixture
def anonymous(tmp_path):
    api = form_api(tmp_path, signed_in=False)
    yield api
    api.close()


def test_every_api_route_and_page_refuses_without_sign_in_and_works_with_it(anonymous):
    api = anonymous
    client = TestClient(api.client.app, follow_redirects=False)
    rit_id = device_client(api.service).post("/api/v1/rits", json={"destination_seh": "seh-umcu",
                                                                    "urgency": "A1"}).json()["rit_id"]
    routes = _routes(api.client.app.routes)
    api_routes = [(m, p) for m, p in routes if p.startswith("/api/v1")]
    pages = [(m, p) for m, p in routes if not p.startswith("/api/") and p not in OPEN_PATHS]
    assert len(api_routes) >= 25 and len(pages) >= 15
    for method, path in api_routes:
        answer = client.request(method, _fill(path, rit_id), json={})
        assert answer.status_code == 401, (method, path, answer.status_code)
        assert answer.json() == {"detail": [{"type": "auth", "msg": "aanmelden nodig (dienst of apparaattoken)"}]}
    for method, path in pages:
        answer = client.request(method, _fill(path, rit_id), data={})
        assert answer.status_code in (303, 403), (method, path, answer.status_code)
        if answer.status_code == 303:
            assert answer.headers["location"].startswith("/aanmelden")

    # Signed in (and with a device token) the same requests get past the gate.
    sign_in(client, "j.devries")
    device = device_client(api.service)
    for method, path in api_routes:
        for who in (client, device):
            answer = who.request(method, _fill(path, rit_id), json={})
            assert answer.status_code not in (401, 403), (method, path, answer.text)
    for path in ("/", f"/rits/{rit_id}", f"/rits/{rit_id}/kop"):
        assert client.get(path).status_code == 200


def test_the_author_is_who_signed_in_or_the_device_never_a_header(anonymous):
    device = device_client(anonymous.service, "koppeling-rit-app")
    rit_id = device.post("/api/v1/rits", json={"destination_seh": "seh-umcu", "urgency": "A1"},
                         headers={"X-Ritlink-User": "iemand.anders"}).json()["rit_id"]
    crew = sign_in(TestClient(anonymous.client.app), "p.bakker")
    crew.post(f"/api/v1/rits/{rit_id}/entries", json={"kind": "remark", "data": {"text": "x"}},
              headers={"X-Ritlink-User": "iemand.anders", "X-Ritlink-Role": "arts"})
    log = [(r["action"], r["user"], r["role"]) for r in anonymous.store.access_log(rit_id) if r["action"] != "rit.read"]
    assert log == [("rit.create", "koppeling-rit-app", "apparaat"),
                   ("entry.add.remark", "p.bakker", "ambulanceverpleegkundige")]


def test_a_cookie_write_needs_the_csrf_header_even_without_a_body(anonymous):
    client = sign_in(TestClient(anonymous.client.app), "j.devries")
    token = client.headers.pop("X-CSRF-Token")
    rit_id = client.post("/api/v1/rits", json={"destination_seh": "seh-umcu", "urgency": "A1"},
                         headers={"X-CSRF-Token": token}).json()["rit_id"]
    assert client.post(f"/api/v1/rits/{rit_id}/announce").status_code == 403
    assert client.post(f"/api/v1/rits/{rit_id}/announce", headers={"X-CSRF-Token": "0" * 64}).status_code == 403
    assert client.post(f"/api/v1/rits/{rit_id}/announce", headers={"X-CSRF-Token": token}).status_code == 202
    assert client.get(f"/api/v1/rits/{rit_id}").status_code == 200  # reads need no header


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _guarded(api, clock) -> TestClient:
    auth = ShiftAuth(api.store, api.service.settings.pin_hash, 12.0, guard=SignInGuard(now=clock))
    return TestClient(create_app(api.service, auth), follow_redirects=False)


def _try(client: TestClient, pin: str):
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/aanmelden").text).group(1)
    return client.post("/aanmelden", data={"crew1": "x", "pin": pin, "csrf": token})


def test_100_wrong_pins_cost_at_least_60_s_and_the_lock_holds_against_the_right_pin(anonymous):
    clock = Clock()
    client = _guarded(anonymous, clock)
    waited = 0.0
    for attempt in range(100):
        answer = _try(client, "99999")
        assert answer.status_code == 403, attempt
        assert "juiste pincode" in answer.text and "99999" not in answer.text
        wait = client.app.state.auth.guard.wait_s()
        assert wait >= 1.0
        # Before the wait is over every attempt is refused unchecked: the right PIN too.
        refused = _try(client, PIN)
        assert refused.status_code == 429 and "Te veel onjuiste pogingen" in refused.text
        clock.t += wait
        waited += wait
    assert waited >= 60.0
    print(f"back-off for 100 wrong PINs: {waited:.0f} s")

    # Ten failures lock for five minutes: the right PIN at 4:59 is refused, at 5:00 it works.
    for _ in range(9):
        _try(client, "99999")
        clock.t += client.app.state.auth.guard.wait_s()
    _try(client, "99999")
    assert client.app.state.auth.guard.wait_s() == pytest.approx(LOCK_S)
    clock.t += LOCK_S - 1
    assert _try(client, PIN).status_code == 429
    clock.t += 1
    assert _try(client, PIN).status_code == 303


def test_a_signed_out_cookie_is_refused_and_a_session_ends_with_the_shift(anonymous):
    client = sign_in(TestClient(anonymous.client.app, follow_redirects=False), "j.devries")
    cookie = client.cookies.get("ritlink_dienst")
    assert client.get("/api/v1/rits").status_code == 200
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/").text).group(1)
    assert client.post("/afmelden", data={"csrf": csrf}).status_code == 303
    replay = TestClient(anonymous.client.app, follow_redirects=False, cookies={"ritlink_dienst": cookie})
    assert replay.get("/api/v1/rits").status_code == 401
    assert replay.get("/").status_code == 303

    shift = sign_in(TestClient(anonymous.client.app, follow_redirects=False), "j.devries")
    book = anonymous.client.app.state.auth.book
    start = datetime.now(UTC)
    book.now = lambda: start + timedelta(hours=book.hours) - timedelta(minutes=1)
    assert shift.get("/api/v1/rits").status_code == 200
    book.now = lambda: start + timedelta(hours=book.hours, seconds=1)
    assert shift.get("/api/v1/rits").status_code == 401 and shift.get("/").status_code == 303


def test_sign_in_needs_its_form_token(anonymous):
    client = TestClient(anonymous.client.app, follow_redirects=False)
    answer = client.post("/aanmelden", data={"crew1": "x", "pin": PIN})
    assert answer.status_code == 403 and "ritlink_dienst" not in answer.headers.get("set-cookie", "")
    client.get("/aanmelden")
    assert client.post("/aanmelden", data={"crew1": "x", "pin": PIN, "csrf": "vals"}).status_code == 403


def test_host_body_size_and_validation_answers(tmp_path):
    api = form_api(tmp_path, max_body_bytes=64 * 1024)
    try:
        assert api.client.get("/api/v1/rits", headers={"Host": "rebind.example"}).status_code == 400
        secret = "Zeldzame Naam " * 10_000  # 140 KB, over the 64 KB cap
        big = api.client.post("/api/v1/rits", content=secret.encode(), headers={"Content-Type": "application/json"})
        assert big.status_code == 413 and "Zeldzame" not in big.text and len(big.content) < 200

        def chunks():  # no Content-Length: refused while it streams in
            for _ in range(20):
                yield b"x" * 8192
        streamed = api.client.post("/api/v1/rits", content=chunks(), headers={"Content-Type": "application/json"})
        assert streamed.status_code == 413

        bad = api.client.post("/api/v1/rits", json={"destination_seh": "Zeldzame Naam", "urgency": "Q" * 5000})
        assert bad.status_code == 422 and "Zeldzame" not in bad.text and "QQQ" not in bad.text
        assert {tuple(d["loc"]) for d in bad.json()["detail"]} >= {("body", "urgency")}
    finally:
        api.close()


def test_serve_without_a_pin_exits_2_and_pin_hash_makes_one(tmp_path):
    config = tmp_path / "edge.toml"
    config.write_text(f'database = "{tmp_path / "edge.db"}"\nbroker_url = "mqtt://127.0.0.1:9"\n')
    from simulators.processes import child_env
    import subprocess
    import sys
    done = subprocess.run([sys.executable, "-m", "ritlink", "serve", "--config", str(config), "--port", "9"],
                          capture_output=True, text=True, timeout=30, env=child_env(credentials=False))
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "pin_hash" in done.stderr
    assert not (tmp_path / "edge.db").exists()

    made = run_ritlink("pin-hash", input="24680\n")
    assert made.returncode == 0, made.stderr
    encoded = re.fullmatch(r'pin_hash = "(scrypt\$[^"]+)"\n', made.stdout).group(1)
    assert verify("24680", encoded) and not verify("24681", encoded)
    short = run_ritlink("pin-hash", input="1234\n")
    assert short.returncode == 2 and "at least 5 digits" in short.stderr
    assert hash_secret("24680") != encoded  # salted


def test_the_process_harness_sends_its_device_token(edge_process):
    edge = edge_process()
    assert edge.get("/api/v1/rits").status_code == 200
    import httpx
    assert httpx.get(edge.base_url + "/api/v1/rits", timeout=5).status_code == 401
    assert httpx.get(edge.base_url + "/api/v1/rits", timeout=5, headers=AUTH_HEADERS).status_code == 200
    # Named as an author, the harness signs that crew member in through the pages.
    rit_id = edge.post("/api/v1/rits", {"destination_seh": "seh-umcu", "urgency": "B"}, headers=CREW).json()["rit_id"]
    log = edge.get(f"/api/v1/rits/{rit_id}/audit").json()
    assert (log[0]["user"], log[0]["role"]) == ("j.devries", "ambulanceverpleegkundige")
