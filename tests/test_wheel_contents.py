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

import pytest
from playwright.sync_api import expect

from tests.harness.procs import RitlinkProcess, child_env, write_toml
from tests.harness.ui_browser import TABLET, chromium, form_tab_links, new_rit, sign_in  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("ritlink", "devices", "edge", "web", "seh", "simulators")


def _shipped_files() -> set[str]:
    listed = subprocess.run(["git", "ls-files", *PACKAGES], cwd=ROOT, capture_output=True, text=True, check=True)
    return {line for line in listed.stdout.splitlines() if "__pycache__" not in line}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    # A copy of the tracked files: a build/ folder left in the checkout would hide a gap.
    source = work / "source"
    for name in _shipped_files() | {"pyproject.toml", "README.md"}:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    # No build isolation: the venv's setuptools builds it, so the test needs no network.
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(work / "dist"), str(source)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr[-2000:]
    (path,) = (work / "dist").glob("ritlink-*.whl")
    return path


def test_the_wheel_holds_every_file_of_the_packages(wheel):
    in_wheel = set(zipfile.ZipFile(wheel).namelist())
    missing = sorted(_shipped_files() - in_wheel)
    assert not missing, f"not in the wheel: {missing}"
    assert "web/templates/tabs/_overdracht.html" in in_wheel


def test_the_installed_wheel_serves_every_tablet_screen(wheel, chromium, broker, tmp_path):  # noqa: F811
    """`ritlink serve` from the unpacked wheel alone (not this checkout): sign in, start a rit,
    open every tab; each renders its screen."""
    installed = tmp_path / "site-packages"
    zipfile.ZipFile(wheel).extractall(installed)
    # The wheel's packages come first; the checkout is not on the path (its dependencies are,
    # from this venv, as pip would have installed them).
    env = {**child_env(), "PYTHONPATH": str(installed)}
    where = subprocess.run([sys.executable, "-c", "import web, ritlink; print(web.__file__, ritlink.__file__)"],
                           env=env, cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert where.stdout.count(str(installed)) == 2, where.stdout + where.stderr
    config = write_toml(tmp_path / "edge.toml", {"vehicle_id": "ambu-01", "broker_url": broker.url,
                                                 "database": str(tmp_path / "edge.db")},
                        sehs=[{"id": "seh-umcu", "name": "SEH UMC Utrecht", "phone": "088-755 5555"}])
    edge = RitlinkProcess("serve", config, tmp_path / "edge.log", env=env, cwd=tmp_path).start()
    try:
        page = chromium.new_page(viewport=TABLET)
        sign_in(page, edge.base_url)
        new_rit(page)
        tabs = form_tab_links(page)
        assert len(tabs) >= 9, tabs
        for label, href in tabs:
            answer = page.goto(edge.base_url + href)
            assert answer is not None and answer.status == 200, (label, answer and answer.status)
            expect(page.locator("nav.tabs a.actief")).to_have_text(label)
        assert "Traceback" not in edge.log_text()
    finally:
        edge.stop()
