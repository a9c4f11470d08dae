"""The package boundaries: devices/ knows nothing of the product; web/ no serial or MQTT."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.harness.procs import REPO_ROOT, child_env


def imported_top_modules(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (REPO_ROOT / package).glob("*.py"):
        names = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
        found[path.name] = names
    return found


def test_devices_imports_nothing_from_edge_web_seh():
    for name, modules in imported_top_modules("devices").items():
        assert not modules & {"edge", "web", "seh", "simulators"}, name


def test_web_imports_neither_paho_nor_serial():
    for name, modules in imported_top_modules("web").items():
        assert not modules & {"paho", "serial", "devices"}, name


def test_importing_web_app_loads_no_paho_or_serial():
    code = "import sys, web.app; print(sorted(m for m in sys.modules if m.split('.')[0] in ('paho', 'serial')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=child_env(), timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_packages_are_the_five_in_pyproject():
    text = (REPO_ROOT / "pyproject.toml").read_text()
    assert 'packages = ["devices", "edge", "web", "seh", "simulators"]' in text
    for package in ("devices", "edge", "web", "seh", "simulators"):
        assert (Path(REPO_ROOT) / package / "__init__.py").exists()
