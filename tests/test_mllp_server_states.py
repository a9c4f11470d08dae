"""The HL7/MLLP listener reports a connection before its first value, and in order.

A gateway reconnecting after a cable pull used to have its values handed on before
"connected" was reported (the accept thread started the reader first), so the tablet could
show fresh values under "monitor niet verbonden".
"""

from __future__ import annotations

import socket
import threading
import time
from datetime import UTC, datetime

from devices import observation as mdc
from devices.hl7_pcd01 import Hl7Value, build_oru_r01
from devices.mllp import mllp_wrap
from devices.mllp_server import MllpServer
from tests.harness.waiting import wait_until

SLOW_STATE_REPORT_S = 0.3


def _message(control_id: str) -> bytes:
    when = datetime(2026, 5, 1, 10, 0, 0, tzinfo=UTC)
    return mllp_wrap(build_oru_r01([Hl7Value(mdc.MDC_HEART_RATE, 88.0, "/min")], control_id, when))


def test_connected_is_reported_before_the_first_value_and_states_stay_in_order():
    states: list[str] = []
    states_at_value: list[list[str]] = []
    lock = threading.Lock()

    def on_state(state: str) -> None:
        time.sleep(SLOW_STATE_REPORT_S)  # a busy consumer (the alarm engine under load)
        with lock:
            states.append(state)

    def on_observation(_observation) -> None:
        with lock:
            states_at_value.append(list(states))

    server = MllpServer("127.0.0.1", 0, "gw", on_observation, on_state).start()
    try:
        for round_number in range(2):  # plug, pull, replug: the reconnect is the case that failed
            with socket.create_connection(("127.0.0.1", server.port), timeout=2) as gateway:
                gateway.sendall(_message(f"M{round_number}"))
                wait_until(lambda: len(states_at_value) > round_number, 3, what="the value handed on")
                gateway.settimeout(2)
                assert gateway.recv(4096)  # the ACK
            wait_until(lambda: len(states) == 2 * (round_number + 1), 3, what="disconnected reported")
        assert states == ["connected", "disconnected", "connected", "disconnected"]
        assert [seen[-1] for seen in states_at_value] == ["connected", "connected"]
    finally:
        server.stop()
