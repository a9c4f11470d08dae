"""The package boundaries as docs/architecture.md draws them, checked on the source.

One-way arrows: ritlink/ (the command) may import everything; devices/ nothing of the
project; edge/ never the hospital side, the UI, the simulators or the command; the pure
wings edge/form and edge/wire no I/O library, not even through another module; seh/ only
the contract and the form of edge's side; only ritlink/ imports the simulators.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.harness.procs import REPO_ROOT, child_env

PACKAGES = ("ritlink", "devices", "edge", "web", "seh", "simulators")
IO_LIBRARIES = {"sqlite3", "sqlite_utils", "paho", "serial", "fastapi", "starlette", "uvicorn", "httpx", "socket"}
# edge/ outside its wings: the facade (service), its wiring (runtime), configuration and errors.
EDGE_TOP_MODULES = {"edge", "edge.service", "edge.config", "edge.runtime", "edge.errors"}
EDGE_WINGS = ("form", "store", "sync", "live", "wire", "ops")
# The SEH shares two pieces of plumbing with the tablet on purpose (the same durability and
# the same MQTT client settings on both sides); nothing else of the tablet's domain.
SEH_ALLOWED_EDGE = ("edge.wire", "edge.form", "edge.errors", "edge.config", "edge.store.db", "edge.sync.mqtt_client")
MAX_LINES = 600


def module_files(root: Path) -> dict[str, Path]:
    """Every module of the project packages, by dotted name."""
    found = {}
    for package in PACKAGES:
        for path in (root / package).rglob("*.py"):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imports_of(path: Path, modules: dict[str, Path]) -> set[str]:
    """Dotted names a file imports anywhere in it (lazy imports inside functions count too):
    ``from a.b import c`` names ``a.b.c`` when that is a module of ours, else ``a.b``."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                names.add(full if full in modules else node.module)
    return names


def import_graph(root: Path) -> dict[str, set[str]]:
    modules = module_files(root)
    return {name: imports_of(path, modules) for name, path in modules.items()}


def within(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    """Everything ``start`` loads, following our own modules (and their packages' __init__)."""
    seen, todo = set(), [start]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for imported in graph.get(name, ()):
            parts = imported.split(".")
            todo += [".".join(parts[:i]) for i in range(1, len(parts) + 1)]
    return seen


def violations(root: Path) -> list[str]:
    """Every broken boundary in the tree at ``root``, one line each (empty: the shape holds)."""
    graph = import_graph(root)
    found = []

    def forbid(who: str, imported: str, why: str) -> None:
        found.append(f"{who} imports {imported}: {why}")

    for name, imported_names in graph.items():
        for imported in imported_names:
            top = imported.split(".")[0]
            if within(name, "devices") and top in PACKAGES and top != "devices":
                forbid(name, imported, "devices/ imports nothing of the project")
            if within(name, "edge") and top in ("simulators", "seh", "web", "ritlink"):
                forbid(name, imported, "edge/ never imports the simulators, the SEH, the UI or the command")
            if within(name, "web") and (top in ("paho", "serial", "devices", "simulators", "seh", "ritlink")
                                        or within(imported, "edge.sync", "edge.live", "edge.runtime")):
                forbid(name, imported, "web/ talks to edge's facade, never to serial, MQTT or the simulators")
            if within(name, "seh") and (top in ("devices", "simulators", "ritlink")
                                        or (top == "edge" and not within(imported, *SEH_ALLOWED_EDGE))):
                forbid(name, imported, "seh/ takes only the contract and the form from edge")
            if within(name, "simulators") and (top in ("seh", "web", "ritlink")
                                               or (top == "edge" and not within(imported, "edge.wire"))):
                forbid(name, imported, "simulators/ take nothing of edge but the contract")
            if top == "simulators" and not within(name, "simulators", "ritlink"):
                forbid(name, imported, "only the command (ritlink/) starts simulators")
    for pure in ("edge.form", "edge.wire"):
        for name in [n for n in graph if within(n, pure)]:
            for imported in graph[name]:
                if within(imported, "edge.store", "edge.sync", "edge.live", "edge.ops", "edge.service"):
                    forbid(name, imported, f"{pure} is pure: it never reaches into the store, sync, live or ops")
            for loaded in reachable(graph, name):
                for imported in sorted(i for i in graph.get(loaded, ()) if i.split(".")[0] in IO_LIBRARIES):
                    forbid(name, imported, f"{pure} is pure: no I/O, not even through {loaded}")
    for name in graph:
        if within(name, "edge") and name not in EDGE_TOP_MODULES and not within(name, *(f"edge.{w}" for w in EDGE_WINGS)):
            found.append(f"{name} sits in edge/ outside its wings")
    return found


def test_the_tree_keeps_its_shape():
    assert violations(REPO_ROOT) == []


def copy_of_tree(tmp_path: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(REPO_ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "*.html",
                                                                                                  "static", "*.csv"))
    return tmp_path


def add_line(path: Path, line: str) -> None:
    path.write_text(path.read_text() + f"\n{line}\n")


def test_the_check_fails_on_each_kind_of_forbidden_import(tmp_path):
    """Each boundary, broken once in a copy of the tree, is named by the check."""
    root = copy_of_tree(tmp_path)
    breaks = [
        ("devices/nonin.py", "import edge.service", "devices/ imports nothing"),
        ("edge/store/outbox.py", "from seh import store", "edge/ never imports"),
        ("edge/form/scores.py", "import sqlite_utils", "edge.form is pure"),
        ("edge/wire/canonical.py", "from edge.live import alarms", "edge.wire is pure"),
        ("seh/app.py", "from edge.service import EdgeService", "seh/ takes only"),
        ("web/sse.py", "import paho.mqtt.client", "web/ talks to"),
        ("simulators/link.py", "from edge.store import outbox", "simulators/ take nothing"),
        ("edge/service.py", "from simulators import demo", "only the command"),
    ]
    for file, line, words in breaks:
        original = (root / file).read_text()
        add_line(root / file, line)
        assert any(words in v for v in violations(root)), (file, line)
        (root / file).write_text(original)
    assert violations(root) == []
    (root / "edge" / "stray.py").write_text('"""a module outside the wings"""\n')
    assert violations(root) == ["edge.stray sits in edge/ outside its wings"]


def test_a_pure_wing_is_checked_through_other_modules(tmp_path):
    """form -> wire is allowed; wire -> a module that opens SQLite is not, and the form is told."""
    root = copy_of_tree(tmp_path)
    add_line(root / "edge" / "wire" / "form_hash.py", "from edge.form import sneaky")
    (root / "edge" / "form" / "sneaky.py").write_text("import sqlite3\n")
    found = violations(root)
    assert any(v.startswith("edge.wire.form_hash imports sqlite3") for v in found), found


def test_no_module_is_over_600_lines():
    long = {str(path.relative_to(REPO_ROOT)): n for path in module_files(REPO_ROOT).values()
            if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_importing_web_app_loads_no_paho_or_serial():
    code = "import sys, web.app; print(sorted(m for m in sys.modules if m.split('.')[0] in ('paho', 'serial')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=child_env(), timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_pyproject_lists_every_package_and_the_command_is_ritlink():
    text = (REPO_ROOT / "pyproject.toml").read_text()
    listed = set(re.findall(r'"([a-z_.]+)"', text.split("packages = [", 1)[1].split("]", 1)[0]))
    on_disk = {name for name, path in module_files(REPO_ROOT).items() if path.name == "__init__.py"}
    assert listed == on_disk
    assert 'ritlink = "ritlink.cli:main"' in text


def test_python_dash_m_ritlink_is_the_command():
    out = subprocess.run([sys.executable, "-m", "ritlink", "--help"], capture_output=True, text=True,
                         env=child_env(), timeout=60, cwd=REPO_ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("usage: ritlink ")
    for command in ("serve", "seh", "sim", "demo", "status"):
        assert command in out.stdout
