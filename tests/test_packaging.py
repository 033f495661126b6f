"""What installing blendkit brings: what ``import blendkit`` loads, extras that name themselves,
one version, one import name for the example app.

Each check runs in a fresh interpreter (``subprocess``), since this test process has imported
everything already.
"""

from __future__ import annotations

import ast
import re
import socket
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

import blendkit

ROOT = Path(__file__).resolve().parents[1]

# Machinery `import blendkit` must not load: the command line (click, rich), YAML, templating
# and migrations are imported where they are used.
HEAVY = ("click", "rich", "yaml", "jinja2", "alembic", "mako")

# Records which module first imports each watched top-level package, then returns None so the
# normal finders import it. `importers` ends up as {package: importing module}.
_RECORDER = """
import sys

WATCHED = {watched!r}
BLOCKED = {blocked!r}
importers = {{}}


class Recorder:
    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        if name in WATCHED and name not in importers:
            frame = sys._getframe(1)
            while frame is not None and frame.f_globals.get("__name__", "").startswith(
                ("importlib", "_frozen_importlib")
            ):
                frame = frame.f_back
            importers[name] = frame.f_globals.get("__name__") if frame else None
        return None


sys.meta_path.insert(0, Recorder())
"""


def _python(code: str, *, watched: tuple[str, ...] = (), blocked: tuple[str, ...] = ()) -> str:
    """Run ``code`` after the recorder in a fresh interpreter at the checkout root."""
    script = _RECORDER.format(watched=watched, blocked=blocked) + textwrap.dedent(code)
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _loaded_after(code: str) -> dict[str, str | None]:
    report = "\nprint(repr({m: importers.get(m) for m in WATCHED if m in sys.modules}))"
    out = _python(textwrap.dedent(code) + report, watched=HEAVY)
    loaded: dict[str, str | None] = ast.literal_eval(out.strip().splitlines()[-1])
    return loaded


def _not_from_blendkit(loaded: dict[str, str | None]) -> dict[str, str | None]:
    """The loads blendkit is responsible for. httpx 0.28 imports click and rich for its own CLI
    whenever they are installed (its ``_main``); an install without the ``cli`` extra has
    neither, which the wheel check in CI (.ci/wheel) shows on a fresh venv."""
    return {
        name: importer
        for name, importer in loaded.items()
        if not (name in ("click", "rich") and (importer or "").startswith("httpx"))
    }


def test_import_blendkit_loads_no_cli_yaml_templating_or_migrations() -> None:
    loaded = _loaded_after("import blendkit")
    assert _not_from_blendkit(loaded) == {}


def test_validating_a_launch_loads_no_cli_yaml_templating_or_migrations() -> None:
    loaded = _loaded_after(
        """
        import blendkit.lti
        from tests.lti.launch_kit import Kit

        kit = Kit()
        launch = kit.tool.launch(kit.good_request())
        assert launch.context is not None and launch.context.label == "BIO101", launch
        """
    )
    assert _not_from_blendkit(loaded) == {}


def test_without_click_and_rich_blendkit_imports_and_validates_a_launch() -> None:
    # The base install: the `cli` extra is absent, so neither package exists at all.
    out = _python(
        """
        import blendkit, blendkit.lti
        from tests.lti.launch_kit import Kit

        kit = Kit()
        print(kit.tool.launch(kit.good_request()).context.label)
        print(sorted(m for m in ("click", "rich") if m in sys.modules))
        """,
        blocked=("click", "rich"),
    )
    assert out.split() == ["BIO101", "[]"]


def test_yaml_and_migrations_load_when_used() -> None:
    # The lazy imports still happen: a YAML path parses and a store migrates.
    loaded = _loaded_after(
        """
        import tempfile
        from blendkit import Store, parse_path
        path = parse_path("id: p\\nmodules:\\n  - id: m\\n    items:\\n      - id: a\\n", "yaml")
        assert [item.id for item in path.items()] == ["a"], path
        Store("sqlite:///" + tempfile.mkdtemp() + "/db.sqlite3").migrate()
        """
    )
    assert loaded.get("yaml") == "blendkit._capped_yaml"
    assert "alembic" in loaded
    assert "mako" in loaded


def _run_cli(args: list[str], blocked: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
    script = _RECORDER.format(watched=(), blocked=blocked) + textwrap.dedent(
        f"""
        sys.argv = ["blendkit", *{args!r}]
        from blendkit.__main__ import main
        main()
        """
    )
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("missing", ["click", "rich"])
def test_the_command_without_the_cli_extra_names_it(missing: str) -> None:
    result = _run_cli(["--help"], blocked=(missing,))
    assert result.returncode == 1
    assert "pip install 'blendkit[cli]'" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("missing", ["flask", "lti1p3platform"])
def test_the_demo_without_the_demo_extra_names_it(missing: str, tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port the demo could listen on, so it gets to the import
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    result = _run_cli(["demo", "--port", port, "--data-dir", str(tmp_path)], blocked=(missing,))
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"the demo needs {missing!r}" in result.stderr
    assert "pip install 'blendkit[demo]'" in result.stderr
    assert "Traceback" not in result.stderr


def test_metrics_without_the_metrics_extra_name_it() -> None:
    script = _RECORDER.format(watched=(), blocked=("prometheus_client",)) + textwrap.dedent(
        """
        try:
            import blendkit.operations.metrics
        except ModuleNotFoundError as exc:
            print(exc.name, "|", exc)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    assert out.startswith("prometheus_client |")
    assert "pip install 'blendkit[metrics]'" in out


def test_the_command_runs_as_a_module() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "blendkit", "--version"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"blendkit, version {blendkit.__version__}"


def _pyproject(path: Path) -> dict[str, object]:
    with path.open("rb") as file:
        return tomllib.load(file)


def test_the_version_is_written_once() -> None:
    project = _pyproject(ROOT / "pyproject.toml")["project"]
    assert isinstance(project, dict)
    assert "version" not in project
    assert "version" in project["dynamic"]
    written = [
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "blendkit").rglob("*.py")
        if re.search(r"^__version__\s*=", path.read_text(encoding="utf-8"), re.MULTILINE)
    ]
    assert written == ["blendkit/_version.py"]


@pytest.mark.parametrize("plugin", ["zoom", "teams", "meet"])
def test_plugins_require_a_compatible_blendkit(plugin: str) -> None:
    project = _pyproject(ROOT / "plugins" / plugin / "pyproject.toml")["project"]
    assert isinstance(project, dict)
    wanted = [Requirement(r) for r in project["dependencies"] if r.startswith("blendkit")]
    assert len(wanted) == 1
    assert wanted[0].specifier.contains(blendkit.__version__)
    # 0.x: a minor release may change the API, so each plugin names the minor it was built for.
    assert not wanted[0].specifier.contains("0.99"), wanted[0]


def test_no_extra_installs_what_no_code_imports() -> None:
    extras = _pyproject(ROOT / "pyproject.toml")["project"]["optional-dependencies"]  # type: ignore[index]
    assert "redis" not in extras
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "blendkit").rglob("*.py"))
    # `postgres` is left out: SQLAlchemy loads psycopg for a postgresql+psycopg:// URL.
    for extra in ("cli", "flask", "interop", "metrics"):
        for requirement in extras[extra]:
            name = Requirement(requirement).name.lower()
            module = {"pyyaml": "yaml", "prometheus-client": "prometheus_client"}.get(name, name)
            assert re.search(rf"^\s*(from|import) {module}\b", source, re.MULTILINE), (
                f"extra {extra!r} installs {name}, which no blendkit module imports"
            )


def test_the_example_app_has_one_import_name() -> None:
    # The wheel ships examples/ as `blendkit_examples`; the checkout path `examples.…` would
    # import the same files a second time under another name.
    other_name = re.compile(r"(?<![\w./])examples\.[a-z_]+")
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for pattern in ("*.py", "*.md", "*.toml", "*.yml")
        for path in ROOT.rglob(pattern)
        if not {".venv", "site", "build", "node_modules"} & set(path.relative_to(ROOT).parts)
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if other_name.search(line) and path != Path(__file__)
    ]
    assert offenders == []
