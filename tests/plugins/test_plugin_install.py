"""`pip install ./plugins/zoom ./plugins/teams ./plugins/meet` in a fresh venv registers the
providers, and `pip install ./plugins/meet` on its own makes `blendkit sessions providers` list it.

The distributions are built from copies of the sources (so the work tree gets no build
directories) and installed without dependencies into a new virtual environment; the entry points
are then listed by that environment's own Python. A second step lends it this environment's
dependencies (a path file appended after its own site-packages) and loads the providers, checking
they come from the fresh install. Skipped with the reason when pip cannot build offline.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
LIST_ENTRY_POINTS = """
import json, importlib.metadata as md
eps = md.entry_points(group="blendkit.meeting_providers")
print(json.dumps({ep.name: [ep.value, ep.dist.name if ep.dist else None] for ep in eps}))
"""
LOAD_PROVIDERS = """
import json, warnings
from blendkit.plugins import PluginLoadWarning
from blendkit.sessions import available_meeting_providers
warnings.simplefilter("error", PluginLoadWarning)  # a plugin that fails to load fails the test
found = available_meeting_providers()
origin = {name: __import__(f.__module__.split(".")[0]).__file__ for name, f in found.items()}
print(json.dumps(origin))
"""
OFFLINE_HINTS = ("No matching distribution", "Could not find a version", "NewConnectionError")


def _copy_sources(target: Path) -> dict[str, Path]:
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "build", ".mypy_cache")
    copies = {}
    for name in ("zoom", "teams", "meet"):
        copies[name] = target / f"plugin-{name}"
        shutil.copytree(REPO_ROOT / "plugins" / name, copies[name], ignore=ignore)
    main = target / "blendkit-src"
    main.mkdir()
    for name in (
        "pyproject.toml",
        "setup.py",
        "MANIFEST.in",
        "README.md",
        "LICENSE",
        "CHANGELOG.md",
    ):
        shutil.copy(REPO_ROOT / name, main)
    for folder in ("blendkit", "examples"):  # setup.py ships examples/ as blendkit_examples
        shutil.copytree(REPO_ROOT / folder, main / folder, ignore=ignore)
    copies["blendkit"] = main
    return copies


def _run(args: list[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)


def test_fresh_venv_install_registers_the_providers(tmp_path: Path) -> None:
    sources = _copy_sources(tmp_path / "src")
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    install = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--quiet",
            "--no-deps",
            str(sources["zoom"]),
            str(sources["teams"]),
            str(sources["meet"]),
            str(sources["blendkit"]),
        ],
        timeout=240,
    )
    if install.returncode != 0 and any(h in install.stderr for h in OFFLINE_HINTS):
        pytest.skip(f"pip cannot build the distributions offline here: {install.stderr[-300:]}")
    assert install.returncode == 0, install.stderr[-2000:]

    listed = _run([str(python), "-I", "-c", LIST_ENTRY_POINTS])
    assert listed.returncode == 0, listed.stderr
    entry_points = json.loads(listed.stdout)
    assert entry_points["zoom"] == ["blendkit_zoom:ZoomProvider", "blendkit-zoom"]
    assert entry_points["teams"] == ["blendkit_teams:TeamsProvider", "blendkit-teams"]
    assert entry_points["meet"] == ["blendkit_meet:MeetProvider", "blendkit-meet"]
    assert entry_points["fake"][0] == "blendkit.sessions:FakeMeetingProvider"

    # Lend the fresh environment this one's dependencies (pydantic, httpx …), after its own.
    fresh_site = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
        ).stdout.strip()
    )
    (fresh_site / "zz_borrowed_dependencies.pth").write_text(sysconfig.get_paths()["purelib"])
    loaded = _run([str(python), "-c", LOAD_PROVIDERS])
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    origins = json.loads(loaded.stdout)
    assert {"zoom", "teams", "meet", "fake"} <= set(origins)
    for name in ("zoom", "teams", "meet"):
        assert Path(origins[name]).is_relative_to(env_dir), (name, origins[name])


def test_meet_alone_in_a_fresh_venv_is_listed_by_the_cli(tmp_path: Path) -> None:
    sources = _copy_sources(tmp_path / "src")
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    install = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--quiet",
            "--no-deps",
            str(sources["meet"]),
            str(sources["blendkit"]),
        ],
        timeout=240,
    )
    if install.returncode != 0 and any(h in install.stderr for h in OFFLINE_HINTS):
        pytest.skip(f"pip cannot build the distributions offline here: {install.stderr[-300:]}")
    assert install.returncode == 0, install.stderr[-2000:]
    fresh_site = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
        ).stdout.strip()
    )
    # Lend the fresh environment this one's dependencies (google-auth, click …), after its own;
    # the other plugins are not installed there, so only meet and the built-in fake are listed.
    (fresh_site / "zz_borrowed_dependencies.pth").write_text(sysconfig.get_paths()["purelib"])
    listed = _run(
        [str(python), "-c", "from blendkit.cli import main; main()", "sessions", "providers"],
    )
    assert listed.returncode == 0, listed.stderr[-2000:]
    names = {line.split()[0] for line in listed.stdout.splitlines() if line.strip()}
    assert "meet" in names
    assert "fake" in names
    meet_line = next(line for line in listed.stdout.splitlines() if line.startswith("meet"))
    assert "blendkit_meet" in meet_line
    origin = _run([str(python), "-c", "import blendkit_meet; print(blendkit_meet.__file__)"])
    assert Path(origin.stdout.strip()).is_relative_to(env_dir), origin.stdout
