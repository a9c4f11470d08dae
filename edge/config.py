"""Configuration for the edge (tablet) service and the SEH receiver.

One TOML file (optional) plus ``RITLINK_*`` environment variables that override it.
With no file at all both services start on safe local defaults, so a tester can run
``ritlink serve`` / ``ritlink seh`` straight away.
"""

from __future__ import annotations

import os
import tomllib
from contextvars import ContextVar
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

CONFIG_ENV = "RITLINK_CONFIG"
ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"


# The parsed TOML file for the load in progress; read by _TomlSource below.
_toml_data: ContextVar[dict] = ContextVar("ritlink_toml_data", default={})


class ConfigError(Exception):
    """A configuration problem, worded as one line that names the offending key."""


class SehDestination(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1)
    phone: str = Field(min_length=1)
    # Where the SEH is (WGS 84) and its geofence: for the ETA and the proposed aankomst SEH.
    # Optional: an SEH without coordinates gets neither.
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    geofence_m: float | None = Field(default=None, gt=0, le=5000)

    @model_validator(mode="after")
    def _coordinates_complete(self):
        if (self.lat is None) != (self.lon is None):
            raise ValueError("give both lat and lon (or neither)")
        if self.geofence_m is not None and self.lat is None:
            raise ValueError("geofence_m needs lat and lon")
        return self


class BrokerAddress(BaseModel):
    host: str
    port: int
    tls: bool = False


def parse_broker_url(url: str) -> BrokerAddress:
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise ValueError("must look like mqtt://HOST:PORT or mqtts://HOST:PORT")
    tls = parts.scheme == "mqtts"
    return BrokerAddress(host=parts.hostname, port=parts.port or (8883 if tls else 1883), tls=tls)


class TlsFiles(BaseModel):
    ca_file: Path
    cert_file: Path
    key_file: Path


class ApiToken(BaseModel):
    """A device or integration allowed on /api/v1 without a sign-in: its name (the author in the
    access log) and its bearer token."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=64)
    token: str = Field(min_length=16)


class _Common(BaseSettings):
    """Settings shared by both services: environment wins over the TOML file."""

    model_config = SettingsConfigDict(env_prefix="RITLINK_", env_nested_delimiter="__", extra="forbid")

    broker_url: str = "mqtt://127.0.0.1:1883"
    http_host: str = "127.0.0.1"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # Every MQTT payload over this is refused unread (edge/wire/safe_json); the broker's
    # message_size_limit sits above it, so the receiver sees and counts what it refuses.
    max_message_bytes: int = Field(default=256 * 1024, ge=16 * 1024, le=8 * 2**20)
    # With an mqtts:// broker: the CA and this client's certificate (CN = vehicle or SEH id).
    tls_ca_file: Path | None = None
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    # HTTP: the Host names the apps answer to (DNS rebinding), a cap on request bodies, the
    # bearer tokens of devices and integrations on /api/v1, and how long a sign-in lasts.
    trusted_hosts: list[str] = Field(default_factory=lambda: ["127.0.0.1", "localhost"], min_length=1)
    max_body_bytes: int = Field(default=2**20, ge=1024, le=64 * 2**20)
    api_tokens: list[ApiToken] = Field(default_factory=list)
    shift_hours: float = Field(default=12.0, gt=0, le=24)
    # Short messages with the other side (docs/sync.md, "Berichten"): a message not read
    # this long after it was written warns its sender; the longest text.
    message_unread_warn_s: float = Field(default=120.0, gt=0, le=24 * 3600)
    message_max_length: int = Field(default=280, ge=10, le=280)

    @model_validator(mode="after")
    def _tls_complete(self):
        files = (self.tls_ca_file, self.tls_cert_file, self.tls_key_file)
        if self.broker.tls and None in files:
            raise ValueError("an mqtts:// broker needs tls_ca_file, tls_cert_file and tls_key_file")
        for name, path in zip(("tls_ca_file", "tls_cert_file", "tls_key_file"), files):
            if path is not None and not path.is_file():
                raise ValueError(f"{name}: {path} does not exist")
        return self

    @property
    def tls(self) -> TlsFiles | None:
        if not self.broker.tls:
            return None
        return TlsFiles(ca_file=self.tls_ca_file, cert_file=self.tls_cert_file, key_file=self.tls_key_file)

    @field_validator("broker_url")
    @classmethod
    def _valid_broker(cls, value: str) -> str:
        parse_broker_url(value)
        return value

    @property
    def broker(self) -> BrokerAddress:
        return parse_broker_url(self.broker_url)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Precedence: command-line flags (init kwargs) > RITLINK_* environment > TOML file.
        return (init_settings, env_settings, _TomlSource(settings_cls))


class _TomlSource(PydanticBaseSettingsSource):
    def get_field_value(self, field, field_name):  # pragma: no cover - __call__ is used
        return None, field_name, False

    def __call__(self) -> dict:
        return dict(_toml_data.get())


class ReceiptTimeouts(BaseModel):
    """How long the crew waits for the SEH's receipts before being told to phone."""

    model_config = ConfigDict(extra="forbid")
    delivered_s: float = Field(default=30.0, gt=0)
    read_s: float = Field(default=120.0, gt=0)


DEFAULT_SEHS = [SehDestination(id="seh-umcu", name="SEH UMC Utrecht", phone="088-755 5555")]


class EdgeSettings(_Common):
    vehicle_id: str = Field(default="ambu-01", pattern=ID_PATTERN)
    # The shift PIN as a scrypt hash (`ritlink pin-hash`); `ritlink serve` refuses to start without one.
    pin_hash: str | None = Field(default=None, pattern=r"^scrypt\$\d+\$\d+\$\d+\$[0-9a-f]+\$[0-9a-f]+$")
    database: Path = Path("ritlink-edge.db")
    http_port: int = Field(default=8080, ge=1, le=65535)
    sehs: list[SehDestination] = Field(default_factory=lambda: list(DEFAULT_SEHS), min_length=1)
    # The crew's preset messages to the SEH (one tap each), besides free text and quick replies.
    message_presets: list[str] = Field(default_factory=lambda: ["is de CT vrij?", "ETA 5 min",
                                                                "patiënt verslechtert"], max_length=12)
    monitor_url: str | None = None
    monitor_protocol: Literal["nonin", "masimo", "hl7", "ansarb", "intellivue"] = "nonin"
    # Per-parameter alarm limits over the adult defaults, by label or MDC code, e.g.
    # [alarm_limits.SpO2] low = 88  (edge/live/alarms.py names the keys).
    alarm_limits: dict[str, dict[str, float | str | None]] = Field(default_factory=dict)
    # A monitor value older than this is not taken into the form: it may no longer be true.
    vitals_max_age_s: float = Field(default=15.0, gt=0)
    # The same drug again within this many minutes asks "al gegeven om HH:MM — nogmaals toedienen?".
    medication_repeat_window_min: float = Field(default=5.0, ge=0, le=240)
    # SEH-status older than this is shown as "onbekend", never as the last state (docs/sync.md).
    seh_status_stale_minutes: float = Field(default=15.0, gt=0, le=24 * 60)
    receipt_timeouts: dict[Literal["A1", "A2", "B"], ReceiptTimeouts] = Field(
        default_factory=lambda: {u: ReceiptTimeouts() for u in ("A1", "A2", "B")}
    )

    def timeouts_for(self, urgency: str) -> ReceiptTimeouts:
        return self.receipt_timeouts.get(urgency, ReceiptTimeouts())

    @field_validator("alarm_limits")
    @classmethod
    def _valid_limits(cls, value: dict) -> dict:
        from edge.live.alarms import limits_with_overrides

        limits_with_overrides(value)  # raises ValueError naming the parameter
        return value

    def alarm_limits_by_code(self) -> dict:
        from edge.live.alarms import limits_with_overrides

        return limits_with_overrides(self.alarm_limits)
    # Clinical saves are refused (loudly) when less than this is left on the disk or under
    # database_max_mb, so the outbox always has room to send what is already stored.
    store_reserve_mb: float = Field(default=20.0, ge=0)
    database_max_mb: float | None = Field(default=None, gt=0)
    # Finished rits leave the tablet this long after the SEH read the overdracht (design.md).
    retention_hours: float = Field(default=24.0, gt=0)
    # TOML or JSON file whose lists replace the shipped Dutch value lists (edge/form/valuelists.py).
    value_lists_file: Path | None = None

    # GPS: a receiver on a pyserial URL or device path (gps_source "serial"), or a gpsd already
    # running on the tablet (gps_source "gpsd"). Without gps_url and gpsd there is no GPS.
    gps_source: Literal["serial", "gpsd"] = "serial"
    gps_url: str | None = None
    gps_baud: int = Field(default=9600, ge=300, le=921600)
    gpsd_host: str = "127.0.0.1"
    gpsd_port: int = Field(default=2947, ge=1, le=65535)

    @property
    def gps_enabled(self) -> bool:
        return self.gps_source == "gpsd" or bool(self.gps_url)

    def seh(self, seh_id: str) -> SehDestination | None:
        return next((s for s in self.sehs if s.id == seh_id), None)


class FhirToken(BaseModel):
    """A client of the SEH's read-only FHIR endpoint: its name (in the access log) and bearer token."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=64)
    token: str = Field(min_length=16)


class SehSettings(_Common):
    seh_id: str = Field(default="seh-umcu", pattern=ID_PATTERN)
    # The department's name on the board and the rit pages (staff read names, not ids).
    name: str | None = Field(default=None, min_length=1, max_length=100)
    # Handed-over and cancelled rits stay on the board's "recent" part this long.
    board_recent_minutes: float = Field(default=30.0, ge=0, le=24 * 60)
    # The SEH's preset messages to the crew (one tap each), besides free text and quick replies.
    message_presets: list[str] = Field(default_factory=lambda: ["traumakamer 2", "direct naar de cathkamer",
                                                                "bel de dienstdoende neuroloog"], max_length=12)
    database: Path = Path("ritlink-seh.db")
    http_port: int = Field(default=8090, ge=1, le=65535)
    # Several receiver processes for one SEH: distinct instances, one shared group and database.
    instance: str = Field(default="1", pattern=r"^[A-Za-z0-9_-]{1,32}$")
    shared_group: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,32}$")
    # FHIR R4 (docs/fhir.md): the clients allowed to read /fhir/R4 (none: everyone gets 401), and
    # where to push every applied update as a transaction bundle (none: no push).
    fhir_tokens: list[FhirToken] = Field(default_factory=list)
    fhir_push_url: str | None = Field(default=None, pattern=r"^https?://")
    fhir_push_token: str | None = None
    fhir_push_retry_max_s: float = Field(default=60.0, gt=0)
    # Retention (seh/retention.py): finished rits are purged this long after their last
    # message; the hospital's EPD holds the record. The access log is kept apart.
    keep_finished_days: float = Field(default=7.0, ge=0)
    # The board on a wall screen without a sign-in: read-only tokens (?display=TOKEN), no rit detail.
    display_tokens: list[ApiToken] = Field(default_factory=list)
    # Single sign-on through a reverse proxy (docs/security.md): the header that names the
    # signed-in user, trusted only on requests from these proxy addresses. Off by default.
    proxy_user_header: str | None = Field(default=None, pattern=r"^[A-Za-z0-9-]{1,64}$")
    trusted_proxies: list[str] = Field(default_factory=list)
    # SEH-status adapter (docs/sync.md "SEH-status"): a file path or an http(s) URL with the
    # status as JSON or CSV, read every status_poll_s seconds. None: set by hand only.
    status_source: str | None = Field(default=None, min_length=1, max_length=2000)
    status_source_format: Literal["auto", "json", "csv"] = "auto"
    status_poll_s: float = Field(default=300.0, ge=0.5, le=24 * 3600)


def _read_toml(path: Path | None) -> dict:
    if path is None:
        env_path = os.environ.get(CONFIG_ENV)
        path = Path(env_path) if env_path else None
    if path is None:
        return {}
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None


def _one_line(exc: ValidationError) -> str:
    first = exc.errors()[0]
    key = ".".join(str(part) for part in first["loc"]) or "(root)"
    more = len(exc.errors()) - 1
    suffix = f" (and {more} more)" if more else ""
    return f"config key '{key}': {first['msg']}{suffix}"


def _load(cls, path: Path | None, overrides: dict):
    token = _toml_data.set(_read_toml(path))
    try:
        return cls(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        raise ConfigError(_one_line(exc)) from None
    finally:
        _toml_data.reset(token)


def load_edge_settings(path: Path | None = None, **overrides) -> EdgeSettings:
    return _load(EdgeSettings, path, overrides)


def load_seh_settings(path: Path | None = None, **overrides) -> SehSettings:
    return _load(SehSettings, path, overrides)
