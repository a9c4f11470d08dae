"""The ``ritlink`` command: serve (tablet), seh (hospital), sim (simulators), demo.

This module is the composition root: it is the one place that wires devices, MQTT, the
store and the web apps together, so it imports lazily per subcommand.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from edge.config import ConfigError

EXIT_USAGE = 2

# Modules that contribute subcommands; each has ``add_commands(sub, sim_sub)`` where
# ``sub`` holds top-level commands and ``sim_sub`` the ``ritlink sim ...`` simulators.
COMMAND_MODULES = [
    "ritlink.monitor", "ritlink.gps", "ritlink.ops", "ritlink.status", "ritlink.link", "ritlink.certs",
    "ritlink.scenario", "ritlink.seh_purge",
    "ritlink.export", "ritlink.access",
]


class OneLineParser(argparse.ArgumentParser):
    """Bad input gives one clear line on stderr and exit code 2 (no usage dump)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def fail(message: str) -> int:
    print(f"ritlink: error: {message}", file=sys.stderr)
    return EXIT_USAGE


class OneLineFormatter(logging.Formatter):
    """One event, one line: a traceback is folded onto the line (journald keeps lines)."""

    def format(self, record: logging.LogRecord) -> str:
        return super().format(record).replace("\n", " | ")


def configure_logging(level: str = "info") -> None:
    # Under systemd journald stamps each line itself (JOURNAL_STREAM is set): no second time.
    stamp = "" if os.environ.get("JOURNAL_STREAM") else "%(asctime)s "
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(OneLineFormatter(stamp + "%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level.upper(), handlers=[handler])


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="ritlink", description="ritlink: ambulance run form, store-and-forward to the SEH")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)

    serve = sub.add_parser("serve", help="run the tablet service (monitor reader, MQTT sync, web UI)")
    serve.add_argument("--config", type=Path, help="TOML config file (else $RITLINK_CONFIG, else defaults)")
    serve.add_argument("--port", type=int, help="HTTP port (default 8080)")
    serve.add_argument("--monitor-url", help="pyserial URL or device path of the vital-signs monitor")
    serve.set_defaults(handler=cmd_serve)

    seh = sub.add_parser("seh", help="run the SEH receiver and arrivals board")
    seh.add_argument("--config", type=Path, help="TOML config file (else $RITLINK_CONFIG, else defaults)")
    seh.add_argument("--port", type=int, help="HTTP port (default 8090)")
    seh.set_defaults(handler=cmd_seh)

    sim = sub.add_parser("sim", help="hardware simulators for testers")
    sim_sub = sim.add_subparsers(dest="simulator", required=True, parser_class=OneLineParser)
    for module in COMMAND_MODULES:
        importlib.import_module(module).add_commands(sub, sim_sub)

    demo = sub.add_parser("demo", help="broker + SEH receiver + tablet service + monitor simulator")
    demo.add_argument("--edge-port", type=int, default=8080)
    demo.add_argument("--seh-port", type=int, default=8090)
    demo.add_argument("--broker-port", type=int, default=18830)
    demo.add_argument("--data-dir", type=Path, help="where databases and the broker live (default: a new temp dir)")
    demo.set_defaults(handler=cmd_demo)
    return parser


def _check_port(port: int | None, what: str) -> str | None:
    from simulators.mosquitto import port_is_free

    if port is not None and not 1 <= port <= 65535:
        return f"{what} {port} is not a valid port (1-65535)"
    if port is not None and not port_is_free(port):
        return f"{what} {port} is already in use"
    return None


GRACEFUL_SHUTDOWN_S = 3


def _run_http(app, host: str, port: int, healthy=lambda: True) -> None:
    """``healthy()`` False (e.g. the MQTT thread is gone) stops the systemd watchdog pings."""
    import asyncio

    import uvicorn

    from edge.ops.sd_notify import Notifier, supervise

    # Live streams (SSE) never end by themselves: without a limit a SIGTERM would wait for every
    # open tablet page or wall board to leave, i.e. until systemd's stop timeout and a SIGKILL.
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, lifespan="off",
                            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S)
    server = uvicorn.Server(config)
    # uvicorn re-raises SIGINT/SIGTERM once it has shut down; with Python's default handlers
    # that would end the process before the callers' cleanup (runtime.stop(), store close).
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: None)

    async def serve() -> None:
        # The systemd notifier shares the server's event loop: READY=1 once our own port
        # answers, WATCHDOG=1 only while this loop keeps running (a hung loop gets restarted).
        notifier = asyncio.create_task(
            supervise(lambda: server.started, lambda: server.should_exit, host, port, app.title, healthy=healthy)
        )
        try:
            await server.serve()
        finally:
            notifier.cancel()
            Notifier().stopping()

    with asyncio.Runner(loop_factory=config.get_loop_factory()) as runner:
        runner.run(serve())


def cmd_serve(args: argparse.Namespace) -> int:
    from edge.config import load_edge_settings

    settings = load_edge_settings(args.config, http_port=args.port, monitor_url=args.monitor_url)
    if settings.pin_hash is None:
        return fail("no shift PIN configured: set pin_hash (make one with `ritlink pin-hash`)")
    if problem := _check_port(settings.http_port, "--port"):
        return fail(problem)
    configure_logging(settings.log_level)
    from edge.store.db import MigrationFailedError, SchemaTooNewError
    from edge.runtime import EdgeRuntime
    from edge.ops.status import DiskWatch, record_last_error
    from web.app import create_app

    record_last_error()
    try:
        runtime = EdgeRuntime(settings)  # opens the store and migrates it, before READY
    except (SchemaTooNewError, MigrationFailedError) as exc:
        return fail(str(exc))
    runtime.start()
    disk_watch = DiskWatch(settings.database).start()
    try:
        _run_http(create_app(runtime.service), settings.http_host, settings.http_port, runtime.sync.alive)
    finally:
        disk_watch.stop()
        runtime.stop()
    return 0


def cmd_seh(args: argparse.Namespace) -> int:
    from edge.config import load_seh_settings

    settings = load_seh_settings(args.config, http_port=args.port)
    if problem := _check_port(settings.http_port, "--port"):
        return fail(problem)
    configure_logging(settings.log_level)
    from edge.store.db import MigrationFailedError, SchemaTooNewError
    from seh.app import create_app
    from seh.receiver import SehReceiver
    from seh.staff import SehAccess
    from seh.store import SehStore

    try:
        store = SehStore(settings.database, settings.seh_id)  # migrated before READY
    except (SchemaTooNewError, MigrationFailedError) as exc:
        return fail(str(exc))
    broker = settings.broker
    from seh.messages import SehMessages

    messages = SehMessages(store, settings.message_presets, settings.message_unread_warn_s,
                           settings.message_max_length)
    receiver = SehReceiver(store, settings.seh_id, broker.host, broker.port,
                           instance=settings.instance, shared_group=settings.shared_group,
                           tls=settings.tls, max_message_bytes=settings.max_message_bytes,
                           keep_finished_s=settings.keep_finished_days * 86400, messages=messages).start()
    fhir_api, pusher = _seh_fhir(settings, store)
    access = SehAccess(store, settings.shift_hours, settings.api_tokens, settings.display_tokens,
                       settings.proxy_user_header, settings.trusted_proxies)
    status_api, keeper, poller = _seh_status(settings, store, access)
    from ritlink.gc_policy import TimedFullCollection

    collector = TimedFullCollection()
    app = create_app(store, receiver.health, receiver.mark_read, live_for=receiver.live_for,
                     status_extra=lambda: {**receiver.status(), "gc": collector.status()},
                     seh_name=settings.name or settings.seh_id, routers=[fhir_api, status_api],
                     board_recent_minutes=settings.board_recent_minutes,
                     access=access, trusted_hosts=settings.trusted_hosts, max_body_bytes=settings.max_body_bytes,
                     messages=messages)
    collector.start()  # after the imports: no full-collection stalls under load (gc_policy.py)
    try:
        _run_http(app, settings.http_host, settings.http_port, receiver.mqtt_alive)
    finally:
        if pusher is not None:
            pusher.stop()
        if poller is not None:
            poller.stop()
        keeper.stop()
        receiver.stop()
        store.close()
    return 0


def _seh_fhir(settings, store):
    """The /fhir/R4 router and, when a FHIR server is configured, the push worker on its own
    thread beside the MQTT receiver (docs/fhir.md)."""
    from seh.fhir_api import fhir_router
    from seh.fhir_push import FhirPusher

    name = settings.name or settings.seh_id
    pusher = None
    if settings.fhir_push_url:
        pusher = FhirPusher(store, settings.fhir_push_url, settings.fhir_push_token, name,
                            retry_max_s=settings.fhir_push_retry_max_s).start()
    return fhir_router(store, settings.fhir_tokens, name), pusher


def _seh_status(settings, store, access):
    """SEH-status (docs/sync.md "SEH-status"): the /status page, the keeper that publishes it
    retained, and, when a source is configured, the adapter polling it."""
    from seh.status import SourcePoller, StatusKeeper
    from seh.status_page import status_router

    broker = settings.broker
    keeper = StatusKeeper(store, settings.seh_id, broker.host, broker.port, settings.instance, settings.tls).start()
    poller = None
    if settings.status_source:
        poller = SourcePoller(keeper, settings.status_source, settings.status_source_format,
                              settings.status_poll_s).start()
    return status_router(keeper, access, settings.name or settings.seh_id), keeper, poller


def stop_on_signals() -> threading.Event:
    """An event set by SIGINT or SIGTERM: long-running commands end cleanly on either."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def cmd_demo(args: argparse.Namespace) -> int:
    from simulators.demo import run_demo

    for flag, port in (("--edge-port", args.edge_port), ("--seh-port", args.seh_port),
                       ("--broker-port", args.broker_port)):
        if problem := _check_port(port, flag):
            return fail(problem)
    return run_demo(args.edge_port, args.seh_port, args.broker_port, args.data_dir, stop_on_signals())


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except ConfigError as exc:
        return fail(str(exc))

