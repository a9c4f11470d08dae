"""The systemd units, udev rules and example configs under systemd/ are valid and hardened."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from edge.config import EdgeSettings, load_edge_settings, load_seh_settings

SYSTEMD = Path(__file__).resolve().parents[1] / "systemd"
UNITS = ["ritlink-edge.service", "ritlink-seh.service"]
INSTALLED_BINARY = "/opt/ritlink/bin/ritlink"
MAX_EXPOSURE = 2.0  # systemd-analyze security: 0 = locked down, 10 = wide open; "OK" is < 4.5

needs_systemd_analyze = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze missing: apt-get install -y systemd"
)


def unit_options(name: str) -> dict[str, list[str]]:
    """[Service] options of a unit, each key with every value it is given."""
    options: dict[str, list[str]] = {}
    section = None
    for raw in (SYSTEMD / name).read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line
        elif section == "[Service]":
            key, value = line.split("=", 1)
            options.setdefault(key, []).append(value)
    return options


def one(options: dict[str, list[str]], key: str) -> str:
    assert key in options, f"{key}= missing"
    return options[key][-1]


def unit_for_this_machine(name: str, tmp_path: Path) -> Path:
    """The unit with ExecStart pointing at a ritlink that exists here (the venv's), so that
    verify checks the real command line instead of stopping at "not executable"."""
    text = (SYSTEMD / name).read_text()
    assert f"ExecStart={INSTALLED_BINARY} " in text
    here = Path(sys.executable).with_name("ritlink")
    assert here.exists(), f"{here} missing: the venv's ritlink entry point is needed"
    copy = tmp_path / name
    copy.write_text(text.replace(INSTALLED_BINARY, str(here)))
    return copy


@needs_systemd_analyze
@pytest.mark.parametrize("name", UNITS)
def test_systemd_analyze_verify_passes_without_warnings(name, tmp_path):
    unit = unit_for_this_machine(name, tmp_path)
    result = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
    # verify exits 0 on unknown keys and typos, but says so on stderr: that must be empty too.
    problems = [line for line in (result.stdout + result.stderr).splitlines() if name in line]
    assert result.returncode == 0 and not problems, result.stdout + result.stderr


@needs_systemd_analyze
def test_verify_notices_a_missing_binary_so_the_check_above_is_real(tmp_path):
    unit = tmp_path / "ritlink-edge.service"
    unit.write_text((SYSTEMD / "ritlink-edge.service").read_text().replace(INSTALLED_BINARY, "/nonexistent/ritlink"))
    result = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "/nonexistent/ritlink" in result.stderr


@needs_systemd_analyze
@pytest.mark.parametrize("name", UNITS)
def test_security_exposure_is_low(name, tmp_path):
    unit = unit_for_this_machine(name, tmp_path)
    result = subprocess.run(["systemd-analyze", "security", "--offline=true", "--no-pager", str(unit)],
                            capture_output=True, text=True, timeout=60)
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout + result.stderr)
    assert match, result.stdout + result.stderr
    assert float(match.group(1)) <= MAX_EXPOSURE, result.stdout


COMMON_HARDENING = {
    "Type": "notify",
    "Restart": "on-failure",
    "DynamicUser": "yes",
    "StateDirectory": "ritlink",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "NoNewPrivileges": "yes",
    "PrivateTmp": "yes",
    "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
    "CapabilityBoundingSet": "",
    "ProtectKernelTunables": "yes",
    "ProtectKernelModules": "yes",
    "ProtectKernelLogs": "yes",
    "ProtectControlGroups": "yes",
    "ProtectClock": "yes",
    "ProtectHostname": "yes",
    "RestrictNamespaces": "yes",
    "RestrictRealtime": "yes",
    "RestrictSUIDSGID": "yes",
    "LockPersonality": "yes",
    "MemoryDenyWriteExecute": "yes",
    "SystemCallArchitectures": "native",
    "DevicePolicy": "closed",
    "UMask": "0077",
    # Bad config or a refused database: restarting cannot help (ritlink.cli.fail exits 2).
    "RestartPreventExitStatus": "2",
}


@pytest.mark.parametrize("name", UNITS)
def test_common_hardening_options(name):
    options = unit_options(name)
    for key, value in COMMON_HARDENING.items():
        assert one(options, key) == value, f"{name}: {key}={one(options, key)!r}, want {value!r}"
    watchdog = one(options, "WatchdogSec")
    assert watchdog.isdigit() and 5 <= int(watchdog) <= 30
    assert options["SystemCallFilter"] == ["@system-service", "~@privileged @resources"]
    assert one(options, "ExecStart").startswith(INSTALLED_BINARY + " ")
    assert any(env.startswith("RITLINK_DATABASE=/var/lib/ritlink/") for env in options["Environment"])


def test_edge_unit_reaches_the_serial_ports_and_nothing_else():
    options = unit_options("ritlink-edge.service")
    assert one(options, "SupplementaryGroups") == "dialout"
    assert sorted(options["DeviceAllow"]) == ["char-ttyACM rw", "char-ttyS rw", "char-ttyUSB rw"]
    # PrivateDevices=yes or PrivateUsers=yes would cut the service off from the serial ports.
    assert "PrivateDevices" not in options and "PrivateUsers" not in options
    assert one(options, "ExecStart").split()[1] == "serve"


def test_seh_unit_has_no_device_access():
    options = unit_options("ritlink-seh.service")
    assert one(options, "PrivateDevices") == "yes"
    assert one(options, "PrivateUsers") == "yes"
    assert "DeviceAllow" not in options and "SupplementaryGroups" not in options
    assert one(options, "ExecStart").split()[1] == "seh"


def test_units_parse_as_ini_with_install_section():
    for name in UNITS:
        parser = configparser.ConfigParser(strict=False, interpolation=None)
        parser.optionxform = str
        parser.read_string((SYSTEMD / name).read_text())
        assert parser["Install"]["WantedBy"] == "multi-user.target"
        assert parser["Unit"]["Description"]


# -- udev rules, drivers, example configs --------------------------------------------------
RULE_KEY = re.compile(r'^(SUBSYSTEM|ATTRS\{(idVendor|idProduct|serial)\}|ENV\{(ID_PATH|ID_MM_DEVICE_IGNORE)\}|'
                      r'SYMLINK|GROUP|MODE|TAG)(==|\+=|=)"([^"]*)"$')


def udev_rules() -> list[dict[str, str]]:
    """Every rule line of 99-ritlink.rules, commented examples included, as key -> value."""
    rules = []
    for line in (SYSTEMD / "99-ritlink.rules").read_text().splitlines():
        text = line.lstrip("# ").strip()
        if not text.startswith("SUBSYSTEM"):
            continue
        rule = {}
        for part in text.split(", "):
            match = RULE_KEY.match(part)
            assert match, f"bad udev rule part {part!r} in: {text}"
            rule[match.group(1) + match.group(4)] = match.group(5)
        rules.append(rule)
    return rules


def test_udev_rules_give_stable_names_with_dialout_access():
    rules = udev_rules()
    assert len(rules) >= 6
    names = {rule['SYMLINK+='] for rule in rules}
    assert names == {"ritlink-monitor", "ritlink-gps"}
    for rule in rules:
        assert rule['SUBSYSTEM=='] == "tty"
        assert re.fullmatch(r"[0-9a-f]{4}", rule['ATTRS{idVendor}=='])
        assert re.fullmatch(r"[0-9a-f]{4}", rule['ATTRS{idProduct}=='])
        assert rule['GROUP='] == "dialout" and rule['MODE='] == "0660"
        assert rule['ENV{ID_MM_DEVICE_IGNORE}='] == "1"
        if rule['SYMLINK+='] == "ritlink-monitor":  # two cables of one make must never swap
            assert 'ATTRS{serial}==' in rule or 'ENV{ID_PATH}==' in rule


def test_serial_drivers_are_loaded_at_boot_for_device_allow():
    modules = [line for line in (SYSTEMD / "ritlink-modules.conf").read_text().splitlines()
               if line and not line.startswith("#")]
    assert {"usbserial", "cdc_acm", "ftdi_sio", "cp210x", "pl2303", "ch341"} <= set(modules)


def test_example_configs_use_the_udev_names_the_state_directory_and_tls():
    edge = tomllib.loads((SYSTEMD / "edge.toml.example").read_text())
    seh = tomllib.loads((SYSTEMD / "seh.toml.example").read_text())
    assert edge["monitor_url"] == "/dev/ritlink-monitor"
    assert "/dev/ritlink-gps" in (SYSTEMD / "edge.toml.example").read_text()
    assert edge["database"] == "/var/lib/ritlink/ritlink-edge.db" and seh["database"] == "/var/lib/ritlink/ritlink-seh.db"
    assert edge["http_host"] == seh["http_host"] == "127.0.0.1"
    for config in (edge, seh):
        assert config["broker_url"].startswith("mqtts://")
        assert config["tls_key_file"] == "/etc/ritlink/tls/client.key"
    for name in UNITS:  # the key reaches the dynamic user only through systemd's credentials
        options = unit_options(name)
        assert options["LoadCredential"] == ["tls-client.key:/etc/ritlink/tls/client.key"]
        assert "RITLINK_TLS_KEY_FILE=%d/tls-client.key" in options["Environment"]


@pytest.mark.skipif("tls_ca_file" not in EdgeSettings.model_fields, reason="needs the broker TLS settings")
@pytest.mark.parametrize(("name", "load"), [("edge.toml.example", load_edge_settings),
                                            ("seh.toml.example", load_seh_settings)])
def test_example_configs_are_valid_settings(name, load, tmp_path, monkeypatch):
    monkeypatch.delenv("RITLINK_CONFIG", raising=False)
    tls = tmp_path / "tls"
    tls.mkdir()
    for file in ("ca.crt", "client.crt", "client.key"):
        (tls / file).write_text("placeholder")
    config = tmp_path / name
    config.write_text((SYSTEMD / name).read_text().replace("/etc/ritlink/tls/", f"{tls}/"))
    settings = load(config)
    assert settings.broker.tls and settings.http_host == "127.0.0.1"
