"""The wheel that docs/deploy.md installs on the tablet and the SEH host holds every file the
product reads at run time: templates (also those in sub-folders), static files, the vendored
htmx, scenarios and routes. A wheel without web/templates/tabs/ gave a tablet whose rit
screen could not render, while every test (on the editable install) passed."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("ritlink", "devices", "edge", "web", "seh", "simulators")


def _shipped_files() -> set[str]:
    listed = subprocess.run(["git", "ls-files", *PACKAGES], cwd=ROOT, capture_output=True, text=True, check=True)
    return {line for line in listed.stdout.splitlines() if "__pycache__" not in line}


def test_the_wheel_holds_every_file_of_the_packages(tmp_path):
    # A copy of the tracked files: a build/ folder left in the checkout would hide a gap.
    source = tmp_path / "source"
    for name in _shipped_files() | {"pyproject.toml", "README.md"}:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    # No build isolation: the venv's setuptools builds it, so the test needs no network.
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(tmp_path / "dist"), str(source)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("ritlink-*.whl")
    in_wheel = set(zipfile.ZipFile(wheel).namelist())
    missing = sorted(_shipped_files() - in_wheel)
    assert not missing, f"not in the wheel: {missing}"
    assert "web/templates/tabs/_overdracht.html" in in_wheel
