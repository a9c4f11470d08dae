"""The SEH's FHIR side: the read-only /fhir/R4 endpoint behind bearer tokens (in-process, on a
real SQLite store fed with real envelopes), and the push of every applied update to a FHIR
server (real ``ritlink seh`` and ``ritlink serve`` on a real mosquitto, a stub FHIR server on
127.0.0.1 that is down for a while)."""

from __future__ import annotations

import json
import sqlite3
import threading
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fhir.resources.R4B import get_fhir_model_class

from edge.config import FhirToken
from edge.wire.canonical import form_sha256
from edge.wire.contract import Envelope, new_id, utc_now
from edge.wire.fhir import validate
from seh.app import create_app
from seh.fhir_api import access_log, fhir_router
from seh.store import SehStore
from simulators.mosquitto import free_port
from tests.harness.fhir_scenarios import cancelled, stemi
from tests.harness.form_api import form_api
from tests.harness.waiting import wait_until

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

TOKEN = "hix-koppeling-0123456789abcdef"
HEADERS = {"X-Ritlink-User": "a.peters", "X-Ritlink-Role": "ambulanceverpleegkundige"}


def _applied(store: SehStore, form: dict, seq: int, status: str) -> None:
    body = {"schema": "ritlink.ritformulier/1", "msg_id": new_id(), "rit_id": form["rit_id"],
            "vehicle_id": form["vehicle_id"], "seh_id": store.seh_id, "seq": seq, "kind": "snapshot",
            "status": status, "body": form, "form_sha256": form_sha256(form), "sent_at": utc_now()}
    assert store.apply(Envelope.model_validate(body))[0].type == "delivered"


@pytest.fixture
def seh_with_rits(tmp_path):
    """An SEH store holding a handed-over STEMI rit and a cancelled one."""
    (tmp_path / "tablet").mkdir()
    api = form_api(tmp_path / "tablet")
    try:
        forms = {name: api.form(record(api)) for name, record in (("stemi", stemi), ("cancelled", cancelled))}
    finally:
        api.close()
    store = SehStore(tmp_path / "seh.db", "seh-umcu")
    _applied(store, forms["stemi"], 1, "overdracht")
    _applied(store, forms["cancelled"], 1, "geannuleerd")
    yield store, forms
    store.close()


def _client(store: SehStore, tokens: list[FhirToken]) -> TestClient:
    return TestClient(create_app(store, seh_name="SEH UMC Utrecht", trusted_hosts=["testserver"],
                                 routers=[fhir_router(store, tokens, "SEH UMC Utrecht")]))


def test_fhir_endpoint_answers_a_known_client_and_refuses_anyone_else(seh_with_rits):
    store, forms = seh_with_rits
    client = _client(store, [FhirToken(name="hix", token=TOKEN)])
    stemi_rit = forms["stemi"]["rit_id"]
    paths = ["/fhir/R4/metadata", "/fhir/R4/Task?status=completed", f"/fhir/R4/Bundle/{stemi_rit}"]
    for path in paths:
        for headers in ({}, {"Authorization": "Bearer not-the-token-0000000"}, {"Authorization": TOKEN}):
            refused = client.get(path, headers=headers)
            assert refused.status_code == 401, (path, headers)
            assert refused.json()["resourceType"] == "OperationOutcome"
            assert refused.headers["www-authenticate"].startswith("Bearer")
    assert access_log(store) == []  # refusals are not reads

    auth = {"Authorization": f"Bearer {TOKEN}"}
    metadata = client.get("/fhir/R4/metadata", headers=auth)
    assert metadata.status_code == 200 and metadata.headers["content-type"].startswith("application/fhir+json")
    assert metadata.json()["resourceType"] == "CapabilityStatement" and metadata.json()["fhirVersion"] == "4.0.1"
    get_fhir_model_class("CapabilityStatement").model_validate(metadata.json())

    def tasks(query: str) -> list[dict]:
        answer = client.get(f"/fhir/R4/Task?{query}", headers=auth)
        assert answer.status_code == 200, answer.text
        return [e["resource"] for e in answer.json()["entry"]]

    done = tasks("status=completed")
    assert [t["identifier"][0]["value"] for t in done] == [stemi_rit]
    assert {t["identifier"][0]["value"] for t in tasks("status=completed,cancelled")} == {
        stemi_rit, forms["cancelled"]["rit_id"]}
    assert tasks("status=requested") == []
    updated = done[0]["meta"]["lastUpdated"]
    assert len(tasks(f"_lastUpdated=ge{updated}")) >= 1 and tasks("_lastUpdated=lt2000-01-01") == []
    assert client.get("/fhir/R4/Task?status=bogus", headers=auth).status_code == 400
    assert client.get(f"/fhir/R4/Task/{done[0]['id']}", headers=auth).json()["status"] == "completed"

    bundle = client.get(f"/fhir/R4/Bundle/{stemi_rit}", headers=auth).json()
    validate(bundle)
    assert bundle["type"] == "document"
    assert client.get("/fhir/R4/Bundle/unknown", headers=auth).status_code == 404

    log = access_log(store)
    assert {row["who"] for row in log} == {"hix"}
    assert [row["action"] for row in log][:2] == ["fhir.metadata", "fhir.task.search"]
    assert [row["rit_id"] for row in access_log(store, stemi_rit)] == [stemi_rit, stemi_rit]  # Task read, Bundle


def test_a_task_read_without_a_token_is_refused_before_any_rit_is_read(seh_with_rits):
    """The search for a Task id reads every rit: an unauthenticated caller must not make it."""
    store, forms = seh_with_rits
    client = _client(store, [FhirToken(name="hix", token=TOKEN)])
    reads, every_rit = [], store.rits
    store.rits = lambda *a, **k: reads.append(1) or every_rit(*a, **k)
    for headers in ({}, {"Authorization": "Bearer not-the-token-0000000"}):
        assert client.get("/fhir/R4/Task/abc", headers=headers).status_code == 401
    assert reads == []
    assert client.get("/fhir/R4/Task/abc", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 404
    assert reads == [1]


def test_without_configured_tokens_everyone_is_refused(seh_with_rits):
    store, _ = seh_with_rits
    client = _client(store, [])
    for headers in ({}, {"Authorization": f"Bearer {TOKEN}"}, {"Authorization": "Bearer "}):
        assert client.get("/fhir/R4/metadata", headers=headers).status_code == 401


class StubFhirServer:
    """A FHIR server that takes transaction bundles, answers like one, and remembers what came."""

    def __init__(self, port: int):
        self.port, self.received, self.server = port, [], None
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                bundle = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                stub.received.append((bundle["identifier"]["value"], self.headers.get("Authorization")))
                answer = {"resourceType": "Bundle", "type": "transaction-response",
                          "entry": [{"response": {"status": "200 OK", "location": e["request"]["url"] + "/_history/1"}}
                                    for e in bundle["entry"]]}
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.handler = Handler

    def start(self) -> StubFhirServer:
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), self.handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()


def _post(edge, path: str, body: dict | None = None, status: int = 201) -> dict:
    response = edge.post(path, body, headers=HEADERS)
    assert response.status_code == status, response.text
    return response.json()


def _all_delivered(edge, rit_id: str) -> bool:
    messages = edge.get(f"/api/v1/rits/{rit_id}", headers=HEADERS).json()["messages"]
    return bool(messages) and all(m["state"] == "delivered" for m in messages)


def test_push_with_the_fhir_server_down_for_a_while(tmp_path, seh_process, edge_process):
    port = free_port()
    stub = StubFhirServer(port)
    seh = seh_process(fhir_push_url=f"http://127.0.0.1:{port}/fhir", fhir_push_token="engine-token",
                      fhir_push_retry_max_s=1.0)
    edge = edge_process()
    try:
        rit_id = _post(edge, "/api/v1/rits", {"destination_seh": "seh-umcu", "urgency": "A1"})["rit_id"]
        url = f"/api/v1/rits/{rit_id}"
        _post(edge, f"{url}/entries", {"kind": "patient", "data": {"sex": "F", "estimated_age_years": 70}})
        _post(edge, f"{url}/announce", status=202)
        steps = [("vitals", {"heart_rate": 110, "spo2": 91}), ("entries", {"kind": "diagnosis", "data": {"text": "CVA"}}),
                 ("entries", {"kind": "treatment_limits", "data": {"status": "geen"}})]
        for path, body in steps:  # each its own update: wait for the SEH's receipt before the next
            wait_until(lambda: _all_delivered(edge, rit_id), 15, what="delivered before the next update")
            _post(edge, f"{url}/{path}", body)
        _post(edge, f"{url}/overdracht", {}, 202)
        # The MQTT receipts do not wait for the FHIR server.
        wait_until(lambda: _all_delivered(edge, rit_id), 15, what="every message delivered with the FHIR server down")
        seqs = [m["seq"] for m in edge.get(url, headers=HEADERS).json()["messages"]]
        assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) == 5

        def outbox() -> list[tuple]:
            with sqlite3.connect(f"file:{tmp_path / 'seh.db'}?mode=ro", uri=True) as conn:
                return conn.execute("SELECT seq, outcome, attempts FROM seh_fhir_outbox WHERE rit_id = ?"
                                    " ORDER BY seq", [rit_id]).fetchall()

        wait_until(lambda: len(outbox()) == 5 and outbox()[0][2] >= 2, 15, what="push retried while the server is down")
        assert all(outcome is None for _, outcome, _ in outbox())
        stub.start()
        wait_until(lambda: len(stub.received) >= 5 and all(o == "sent" for _, o, _ in outbox()), 20,
                   what="every update pushed once the server is back")
        assert [value for value, _ in stub.received] == [f"{rit_id}/{seq}" for seq in range(1, 6)]
        assert {auth for _, auth in stub.received} == {"Bearer engine-token"}
        with sqlite3.connect(f"file:{tmp_path / 'seh.db'}?mode=ro", uri=True) as conn:
            receipt = json.loads(conn.execute("SELECT receipt_json FROM seh_fhir_outbox WHERE rit_id = ? AND seq = 5",
                                              [rit_id]).fetchone()[0])
        assert receipt["entries"][0]["status"] == "200 OK"
        assert _all_delivered(edge, rit_id)
        assert "CVA" not in seh.log_text()  # ids only in the log
    finally:
        stub.stop()
