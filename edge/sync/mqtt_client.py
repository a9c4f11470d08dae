"""One way to make a paho-mqtt 2.x client for ritlink: MQTT v5, persistent session,
TCP_NODELAY on the socket (design.md: Nagle costs 40-80 ms per round trip otherwise)."""

from __future__ import annotations

import socket

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

SESSION_EXPIRY_S = 48 * 3600  # outlives a day-long outage of the tablet or the SEH
KEEPALIVE_S = 10  # a dead link is noticed within ~1.5 x this


def make_client(client_id: str) -> mqtt.Client:
    client = mqtt.Client(
        callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=mqtt.MQTTv5,
    )
    client.on_socket_open = _set_nodelay
    client.reconnect_delay_set(min_delay=1, max_delay=5)
    return client


def _set_nodelay(client: mqtt.Client, userdata: object, sock: socket.socket) -> None:
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (OSError, AttributeError):
        pass  # not a TCP socket (e.g. a websocket wrapper); latency only


def connect_async(client: mqtt.Client, host: str, port: int, tls=None) -> None:
    """Start connecting in the background with a persistent session (clean_start False).

    ``tls`` (edge.config.TlsFiles) turns on TLS with this client's certificate."""
    if tls is not None:
        client.tls_set(ca_certs=str(tls.ca_file), certfile=str(tls.cert_file), keyfile=str(tls.key_file))
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = SESSION_EXPIRY_S
    client.connect_async(host, port, keepalive=KEEPALIVE_S, clean_start=False, properties=props)
    client.loop_start()


def publish_properties(response_topic: str | None = None, correlation: str | None = None) -> Properties:
    props = Properties(PacketTypes.PUBLISH)
    if response_topic:
        props.ResponseTopic = response_topic
    if correlation:
        props.CorrelationData = correlation.encode("utf-8")
    return props


def loop_alive(client: mqtt.Client) -> bool:
    """Whether the client's network thread (``loop_start``) still runs.

    paho keeps no public handle on it; an exception escaping a callback ends it for good
    while ``is_connected()`` may still say True, so health and the watchdog ask this."""
    thread = getattr(client, "_thread", None)
    return thread is not None and thread.is_alive()
