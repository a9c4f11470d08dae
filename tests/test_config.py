"""Configuration: defaults, TOML file, RITLINK_* environment, flags; one clear error line."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.config import ConfigError, load_edge_settings, load_seh_settings
from tests.harness.procs import run_ritlink


def test_defaults_without_any_file(monkeypatch):
    monkeypatch.delenv("RITLINK_CONFIG", raising=False)
    settings = load_edge_settings()
    assert settings.broker.host == "127.0.0.1" and settings.broker.port == 1883
    assert settings.database == Path("ritlink-edge.db")
    assert settings.http_port == 8080
    assert [s.id for s in settings.sehs] == ["seh-umcu"]
    assert load_seh_settings().http_port == 8090


def test_toml_then_environment_then_flags(tmp_path, monkeypatch):
    config = tmp_path / "edge.toml"
    config.write_text('vehicle_id = "ambu-07"\nhttp_port = 7000\nbroker_url = "mqtt://127.0.0.1:1999"\n'
                      '[[sehs]]\nid = "seh-x"\nname = "SEH X"\nphone = "010-1"\n')
    settings = load_edge_settings(config)
    assert (settings.vehicle_id, settings.http_port, settings.broker.port) == ("ambu-07", 7000, 1999)
    assert settings.seh("seh-x").phone == "010-1"
    monkeypatch.setenv("RITLINK_HTTP_PORT", "7100")
    assert load_edge_settings(config).http_port == 7100
    assert load_edge_settings(config, http_port=7200).http_port == 7200
    monkeypatch.setenv("RITLINK_CONFIG", str(config))
    assert load_edge_settings().vehicle_id == "ambu-07"


@pytest.mark.parametrize(
    "toml, key",
    [
        ('vehicle_idd = "x"\n', "vehicle_idd"),
        ("http_port = 70000\n", "http_port"),
        ('broker_url = "http://x"\n', "broker_url"),
        ('vehicle_id = "Ambu 1!"\n', "vehicle_id"),
        ('[[sehs]]\nid = "seh-x"\nname = "X"\n', "sehs.0.phone"),
    ],
)
def test_bad_config_names_the_key(tmp_path, toml, key):
    config = tmp_path / "bad.toml"
    config.write_text(toml)
    with pytest.raises(ConfigError, match=f"'{key}'"):
        load_edge_settings(config)


def test_bad_config_is_one_line_and_exit_2(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text("http_port = 'eighty'\n")
    result = run_ritlink("serve", "--config", str(config))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "http_port" in result.stderr


def test_unparseable_or_missing_config_file(tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text("http_port = [\n")
    for path in (broken, tmp_path / "missing.toml"):
        result = run_ritlink("seh", "--config", str(path))
        assert result.returncode == 2, result.stderr
        assert result.stderr.strip().count("\n") == 0
        assert str(path) in result.stderr


@pytest.mark.parametrize(
    "args, words",
    [
        (("serve", "--bogus"), "--bogus"),
        (("serve", "--port", "abc"), "--port"),
        (("frobnicate",), "frobnicate"),
        (("sim", "monitor"), "--link"),
        (("sim", "monitor", "--link", "/nonexistent/dir/m"), "--link"),
        (("demo", "--edge-port", "0"), "--edge-port"),
    ],
)
def test_bad_cli_input_is_one_line_and_exit_2(args, words):
    result = run_ritlink(*args)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert words in result.stderr
