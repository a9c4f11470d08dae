"""In-process tablet API for form tests: a real EdgeService + EdgeStore on a tmp SQLite
file behind FastAPI's TestClient (no MQTT: the service works without the sync)."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from edge.config import load_edge_settings
from edge.live.vitals import LiveVitals
from edge.service import EdgeService
from edge.store.rit_store import EdgeStore
from edge.config import ApiToken
from simulators.processes import AUTH_HEADERS, DEVICE_TOKEN, PIN, PIN_HASH
from web.session import ShiftAuth
from tests.conftest import SEHS
from web.app import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

# Who the harness signs in as: the author of everything it saves (the role is the crew's).
CREW = {"X-Ritlink-User": "j.devries", "X-Ritlink-Role": "ambulanceverpleegkundige"}
# TestClient's own Host name, beside the tablet's.
TEST_HOSTS = ["127.0.0.1", "localhost", "testserver"]


@dataclass
class FormApi:
    client: TestClient
    service: EdgeService
    store: EdgeStore
    live: LiveVitals

    def post(self, path: str, body: dict | None = None, status: int | None = None, **headers: str) -> Any:
        response = self.client.post(path, json=body, headers=headers)
        if status is not None:
            assert response.status_code == status, response.text
        return response

    def get(self, path: str, **headers: str) -> Any:
        response = self.client.get(path, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    def new_rit(self, seh: str = "seh-umcu", urgency: str = "A1", **extra: Any) -> str:
        return self.post("/api/v1/rits", {"destination_seh": seh, "urgency": urgency, **extra}, 201).json()["rit_id"]

    def entry(self, rit_id: str, kind: str, data: dict, status: int = 201, **extra: Any) -> Any:
        return self.post(f"/api/v1/rits/{rit_id}/entries", {"kind": kind, "data": data, **extra}, status)

    def form(self, rit_id: str) -> dict:
        return self.get(f"/api/v1/rits/{rit_id}")["form"]

    def close(self) -> None:
        self.store.close()


def sign_in(client: TestClient, *names: str, pin: str = PIN) -> TestClient:
    """Sign the shift in through the page (its CSRF token included); the client then sends
    the CSRF header /api/v1 wants on writes."""
    page = client.get("/aanmelden").text
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    answer = client.post("/aanmelden", data={"crew1": names[0], "crew2": names[1] if len(names) > 1 else "",
                                              "pin": pin, "csrf": token}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    home = client.get("/").text
    client.headers["X-CSRF-Token"] = re.search(r'name="csrf" value="([^"]+)"', home).group(1)
    return client


def device_client(service: EdgeService, name: str = "harness") -> TestClient:
    """A TestClient on ``create_app(service)`` that calls /api/v1 with a device token named ``name``."""
    auth = ShiftAuth(service.store, PIN_HASH, 12.0, [ApiToken(name=name, token=DEVICE_TOKEN)])
    return TestClient(create_app(service, auth), base_url="http://127.0.0.1", headers=AUTH_HEADERS)


def edge_settings(tmp_path: Path, **settings: Any):
    return load_edge_settings(None, **{"database": tmp_path / "edge.db", "sehs": SEHS, "pin_hash": PIN_HASH,
                                       "trusted_hosts": TEST_HOSTS, **settings})


def form_api(tmp_path: Path, signed_in: bool = True, **settings: Any) -> FormApi:
    config = edge_settings(tmp_path, **settings)
    store = EdgeStore(config.database)
    live = LiveVitals()
    service = EdgeService(config, store, live)
    client = TestClient(create_app(service))
    if signed_in:
        sign_in(client, CREW["X-Ritlink-User"])
    return FormApi(client, service, store, live)


@pytest.fixture
def api(tmp_path):
    """A fresh in-process tablet API (import this fixture into a test module to use it)."""
    api = form_api(tmp_path)
    yield api
    api.close()
