"""The services a scenario plays against, and how it talks to them like any outside client.

``PrivateStack`` starts everything itself, each a real process or device: a private
mosquitto, the link cutter between the tablet service and the broker, the SEH receiver,
the tablet service, and the monitor and GPS ptys the scenario's simulators write to.
``RunningStack`` only knows the URLs of services someone else started (``ritlink demo``).

``Tablet`` is the signed-in crew: it signs in on the shift page (crew names + PIN), starts
a rit through the HTML form (so the crew is on the form) and does the rest through the
JSON API; ``SehDesk`` is a nurse at the SEH's HTTP side.
"""

from __future__ import annotations

import html
import os
import re
import secrets
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from simulators.link import LinkCutter
from simulators.mosquitto import Mosquitto, free_port, wait_for_port
from simulators.processes import AUTH_HEADERS, PIN, child_env, ritlink_cmd
from simulators.pty_device import PtyDevice

VEHICLE_ID = "ambu-01"
SEH_ID = "seh-umcu"
CREW = ("J. de Vries", "A. Bakker")
HTTP_TIMEOUT_S = 5.0
STOP_GRACE_S = 3.0


class StackError(RuntimeError):
    pass


class ServiceProcess:
    """``ritlink serve`` or ``ritlink seh`` in its own session: the runner, not the terminal,
    decides when it stops (Ctrl-C goes to the runner only)."""

    def __init__(self, command: str, config: Path, port: int, log_path: Path, env: dict[str, str]):
        self.command, self.config, self.port, self.log_path, self.env = command, config, port, log_path, env
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 20.0) -> ServiceProcess:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                ritlink_cmd(self.command, "--config", str(self.config), "--port", str(self.port)),
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=self.env, start_new_session=True)
        if not wait_for_port(self.port, timeout):
            self.stop()
            raise StackError(f"ritlink {self.command} did not start; see {self.log_path}")
        return self

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if not self.running:
            return
        self.process.terminate()
        try:
            self.process.wait(STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(2)


@dataclass
class SehPlace:
    """Where the destination SEH is, for the tablet's ETA and geofence (from the route)."""

    lat: float | None = None
    lon: float | None = None
    radius_m: float | None = None


@dataclass
class PrivateStack:
    data_dir: Path
    monitor_protocol: str = "ansarb"
    seh_place: SehPlace = field(default_factory=SehPlace)
    timeouts: tuple[float, float] = (30.0, 120.0)  # delivered_s, read_s in real seconds
    with_gps: bool = False
    broker: Mosquitto | None = None
    cutter: LinkCutter | None = None
    seh: ServiceProcess | None = None
    edge: ServiceProcess | None = None
    monitor_device: PtyDevice | None = None
    gps_device: PtyDevice | None = None
    controllable: bool = True

    @classmethod
    def create(cls, data_dir: Path | None, **kwargs: Any) -> PrivateStack:
        folder = Path(data_dir or tempfile.mkdtemp(prefix="ritlink-scenario-"))
        folder.mkdir(parents=True, exist_ok=True)
        return cls(folder, **kwargs)

    @property
    def edge_url(self) -> str:
        return f"http://127.0.0.1:{self.edge.port}"

    @property
    def seh_url(self) -> str:
        return f"http://127.0.0.1:{self.seh.port}"

    @property
    def broker_address(self) -> tuple[str, int]:
        return "127.0.0.1", self.broker.port

    def start(self) -> PrivateStack:
        env = child_env()  # the harness PIN (12345, as a hash) and token
        self.broker = Mosquitto(self.data_dir / "broker").start()
        # The tablet reaches the broker only through the link cutter (the tunnel, the dead radio).
        self.cutter = LinkCutter(free_port(), "127.0.0.1", self.broker.port).start()
        self.monitor_device = PtyDevice(self.data_dir / "monitor").plug()
        if self.with_gps:
            self.gps_device = PtyDevice(self.data_dir / "gps").plug()
        seh_config = self.data_dir / "seh.toml"
        seh_config.write_text(f'seh_id = "{SEH_ID}"\nbroker_url = "{self.broker.url}"\n'
                              f'database = "{self.data_dir / "seh.db"}"\n')
        self.seh = ServiceProcess("seh", seh_config, free_port(), self.data_dir / "seh.log", env).start()
        self.edge = ServiceProcess("serve", self._edge_config(), free_port(), self.data_dir / "edge.log", env).start()
        return self

    def _edge_config(self) -> Path:
        delivered_s, read_s = self.timeouts
        lines = [f'vehicle_id = "{VEHICLE_ID}"', f'broker_url = "mqtt://127.0.0.1:{self.cutter.listen[1]}"',
                 f'database = "{self.data_dir / "edge.db"}"', f'monitor_url = "{self.monitor_device.link}"',
                 f'monitor_protocol = "{self.monitor_protocol}"']
        if self.gps_device is not None:
            lines += [f'gps_url = "{self.gps_device.link}"', "gps_baud = 115200"]
        lines += ["[[sehs]]", f'id = "{SEH_ID}"', 'name = "SEH UMC Utrecht"', 'phone = "088-755 5555"']
        place = self.seh_place
        if place.lat is not None:
            lines += [f"lat = {place.lat}", f"lon = {place.lon}", f"geofence_m = {place.radius_m or 150}"]
        for urgency in ("A1", "A2", "B"):
            lines += [f"[receipt_timeouts.{urgency}]", f"delivered_s = {delivered_s:.3f}", f"read_s = {read_s:.3f}"]
        path = self.data_dir / "edge.toml"
        path.write_text("\n".join(lines) + "\n")
        return path

    def seh_down(self) -> None:
        self.seh.stop()

    def seh_up(self) -> None:
        if not self.seh.running:
            self.seh.start()

    def stop(self) -> None:
        for service in (self.edge, self.seh):
            if service is not None:
                service.stop()
        if self.cutter is not None:
            self.cutter.stop()
        for device in (self.monitor_device, self.gps_device):
            if device is not None and device.plugged:
                device.unplug()
        if self.broker is not None:
            self.broker.stop(STOP_GRACE_S)


@dataclass
class RunningStack:
    """Services started by someone else: the scenario can talk to them, not pull their plugs."""

    edge_url: str
    seh_url: str
    broker_url: str | None = None
    controllable: bool = False
    cutter: None = None
    monitor_device: None = None
    gps_device: None = None
    data_dir: Path | None = None

    @property
    def broker_address(self) -> tuple[str, int] | None:
        if not self.broker_url:
            return None
        parts = urlsplit(self.broker_url if "://" in self.broker_url else f"mqtt://{self.broker_url}")
        return parts.hostname or "127.0.0.1", parts.port or 1883

    def start(self) -> RunningStack:
        for url in (self.edge_url, self.seh_url):
            try:
                httpx.get(url.rstrip("/") + "/-/health", timeout=HTTP_TIMEOUT_S).raise_for_status()
            except httpx.HTTPError as exc:
                raise StackError(f"{url} does not answer /-/health: {exc}") from None
        return self

    def stop(self) -> None:
        pass


def pin() -> str:
    return os.environ.get("RITLINK_PIN", PIN)


class ActionError(RuntimeError):
    """A crew or SEH action the product refused (its answer is in the message)."""


def _check(response: httpx.Response, what: str) -> httpx.Response:
    if response.status_code >= 400:
        detail = response.text[:300].replace("\n", " ")
        raise ActionError(f"{what}: HTTP {response.status_code} {detail}")
    return response


def _csrf(page: str) -> str | None:
    found = re.search(r'name="csrf"\s+value="([^"]+)"', page) or re.search(r'value="([^"]+)"\s+name="csrf"', page)
    return found.group(1) if found else None


def visible_text(page: str) -> str:
    """The words of an HTML fragment as the crew reads them (tags dropped, entities decoded)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


class Tablet:
    """The signed-in crew on the tablet's HTTP side."""

    def __init__(self, base_url: str, crew: tuple[str, ...] = CREW):
        self.base_url = base_url.rstrip("/")
        self.crew = crew
        self.http = httpx.Client(base_url=self.base_url, timeout=HTTP_TIMEOUT_S)
        self.headers = {"X-Ritlink-User": crew[0], "X-Ritlink-Role": "ambulanceverpleegkundige"}

    def sign_in(self) -> None:
        form = {"crew1": self.crew[0], "crew2": self.crew[1] if len(self.crew) > 1 else "", "pin": pin(),
                "csrf": _csrf(_check(self.http.get("/aanmelden"), "sign-in page").text) or ""}
        response = self.http.post("/aanmelden", data=form)
        if response.status_code != 303:
            raise ActionError(f"sign-in refused (HTTP {response.status_code}): check RITLINK_PIN")
        # /api/v1 takes the shift's cookie, and on writes its CSRF token as a header.
        self.http.headers["X-CSRF-Token"] = _csrf(_check(self.http.get("/"), "rit list").text) or ""

    def start_rit(self, seh: str, urgency: str, reason: str | None) -> str:
        token = _csrf(_check(self.http.get("/"), "rit list").text)
        if token is None:
            raise ActionError("the rit list has no form token (not signed in?)")
        form = {"csrf": token, "idem": secrets.token_hex(12), "destination_seh": seh, "urgency": urgency,
                "reason": reason or "", "ook_nieuw": "1"}  # a scenario may run rits side by side
        response = _check(self.http.post("/ritten", data=form), "new rit")
        found = re.search(r"/rits/([0-9a-f-]{36})", response.headers.get("location", ""))
        if response.status_code != 303 or not found:
            raise ActionError(f"new rit: no rit in the answer (HTTP {response.status_code})")
        return found.group(1)

    def post(self, path: str, body: dict | None = None, what: str = "") -> dict:
        headers = {**self.headers, "Idempotency-Key": secrets.token_hex(12)}
        response = _check(self.http.post("/api/v1" + path, json=body, headers=headers), what or path)
        return response.json() if response.content else {}

    def get(self, path: str) -> Any:
        return _check(self.http.get(path, headers=self.headers), path).json()

    def header_words(self, rit_id: str) -> str:
        return visible_text(_check(self.http.get(f"/rits/{rit_id}/kop"), "header strip").text)

    def close(self) -> None:
        self.http.close()


class SehDesk:
    """A nurse at the SEH: opens rits (that is what sends the read receipt), gives feedback."""

    def __init__(self, base_url: str):
        # The harness's integration token (every private stack configures it on both apps).
        self.http = httpx.Client(base_url=base_url.rstrip("/"), timeout=HTTP_TIMEOUT_S, headers=AUTH_HEADERS)

    def rit(self, rit_id: str) -> dict | None:
        response = self.http.get(f"/api/v1/rits/{rit_id}")
        if response.status_code == 404:
            return None
        return _check(response, "SEH rit").json()

    def open_rit(self, rit_id: str) -> None:
        # The rit page, as a nurse opens it on the board, then her "Gelezen": the read receipt.
        _check(self.http.get(f"/rits/{rit_id}"), "SEH opens rit")
        _check(self.http.post(f"/api/v1/rits/{rit_id}/read"), "SEH reads rit")

    def feedback(self, rit_id: str, diagnosis: str, disposition: str, remarks: str) -> None:
        _check(self.http.post(f"/api/v1/rits/{rit_id}/feedback",
                              json={"diagnosis": diagnosis, "disposition": disposition, "remarks": remarks}),
               "SEH feedback")

    def close(self) -> None:
        self.http.close()
