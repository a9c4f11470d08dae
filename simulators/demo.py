"""``ritlink demo``: a private broker, the SEH receiver, the tablet service and a monitor
simulator, each a real process; all stopped together on Ctrl-C or SIGTERM."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from simulators.mosquitto import BrokerError, Mosquitto, wait_for_port
from simulators.processes import DEVICE_TOKEN, PIN, PIN_HASH

DEMO_STAFF, DEMO_PASSWORD = "seh-demo", "ritlink-demo"

STOP_GRACE_S = 4.0


def _ritlink(*args: str) -> list[str]:
    return [sys.executable, "-m", "ritlink", *args]


def run_demo(edge_port: int, seh_port: int, broker_port: int, data_dir: Path | None,
             stop: threading.Event) -> int:
    data_dir = Path(data_dir or tempfile.mkdtemp(prefix="ritlink-demo-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    monitor_link = data_dir / "monitor"
    gps_link = data_dir / "gps"
    broker = Mosquitto(data_dir / "broker", port=broker_port)
    try:
        broker.start()
    except BrokerError as exc:
        print(f"ritlink: error: {exc}", file=sys.stderr)
        return 1
    # Both apps take the harness's token too, so `ritlink sim scenario --edge --seh` can drive a demo.
    token = f'[[api_tokens]]\nname = "demo-koppeling"\ntoken = "{DEVICE_TOKEN}"\n'
    (data_dir / "seh.toml").write_text(
        f'seh_id = "seh-umcu"\nname = "SEH UMC Utrecht"\nbroker_url = "{broker.url}"\nhttp_port = {seh_port}\n'
        f'database = "{data_dir / "seh.db"}"\n' + token
    )
    staff = subprocess.run(_ritlink("seh-users", "add", DEMO_STAFF, "--config", str(data_dir / "seh.toml")),
                           input=DEMO_PASSWORD + "\n", capture_output=True, text=True, timeout=30)
    if staff.returncode != 0:
        print(f"ritlink: error: {staff.stderr.strip()}", file=sys.stderr)
        broker.stop(STOP_GRACE_S / 2)
        return 1
    (data_dir / "edge.toml").write_text(
        f'vehicle_id = "ambu-01"\nbroker_url = "{broker.url}"\nhttp_port = {edge_port}\n'
        f'database = "{data_dir / "edge.db"}"\nmonitor_url = "{monitor_link}"\ngps_url = "{gps_link}"\n'
        f'pin_hash = "{PIN_HASH}"\n'  # the demo's shift PIN, 12345
        # The shipped city route ends at this SEH's ambulance entrance (its geofence: 150 m).
        '[[sehs]]\nid = "seh-umcu"\nname = "SEH UMC Utrecht"\nphone = "088-755 5555"\n'
        "lat = 52.0862\nlon = 5.1797\ngeofence_m = 150\n"
        # A second SEH in the region (no receiver in the demo): the destination choice shows it
        # with status "onbekend" and its driving ETA.
        '[[sehs]]\nid = "seh-antonius"\nname = "SEH St. Antonius Nieuwegein"\nphone = "088-320 3000"\n'
        "lat = 52.0370\nlon = 5.0930\ngeofence_m = 150\n" + token
    )
    logs = open(data_dir / "demo.log", "ab")
    children = []
    for args in (
        ("sim", "monitor", "--protocol", "nonin", "--link", str(monitor_link), "--repeat"),
        ("sim", "gps", "--route", "utrecht-city", "--link", str(gps_link), "--loop"),
        ("seh", "--config", str(data_dir / "seh.toml")),
        ("serve", "--config", str(data_dir / "edge.toml")),
    ):
        children.append(subprocess.Popen(_ritlink(*args), stdin=subprocess.DEVNULL, stdout=logs, stderr=logs,
                                         start_new_session=True))
    try:
        if not (wait_for_port(seh_port, 15) and wait_for_port(edge_port, 15)):
            print("ritlink: error: a service did not start; see " + str(data_dir / "demo.log"), file=sys.stderr)
            return 1
        print(f"tablet (edge):   http://127.0.0.1:{edge_port}/", flush=True)
        print(f"SEH board:       http://127.0.0.1:{seh_port}/", flush=True)
        print(f"broker:          {broker.url}", flush=True)
        print(f"monitor (pty):   {monitor_link}", flush=True)
        print(f"GPS (pty):       {gps_link} (city route to the SEH, looping)", flush=True)
        print(f"sign in on the tablet with any crew name and PIN {PIN}", flush=True)
        print(f"sign in on the SEH board as {DEMO_STAFF}, password {DEMO_PASSWORD}", flush=True)
        print(f"data and logs:   {data_dir}", flush=True)
        print("Ctrl-C stops everything.", flush=True)
        while not stop.wait(0.5):
            for child in children:
                if child.poll() is not None:
                    print(f"ritlink: error: a demo process exited ({child.args[3]}); see {data_dir / 'demo.log'}",
                          file=sys.stderr)
                    return 1
        return 0
    finally:
        _stop_all(children)
        broker.stop(STOP_GRACE_S / 2)
        logs.close()


def _stop_all(children: list[subprocess.Popen]) -> None:
    for child in children:
        if child.poll() is None:
            child.terminate()
    for child in children:
        try:
            child.wait(STOP_GRACE_S / 2)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(1)
