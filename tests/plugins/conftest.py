"""Fixtures of the meeting-plugin tests: the vendor specs, loaded once per test session.

The specs live in ``../shared/specs`` beside the repository (not in it); tests that need them
skip with a reason in a clone without that directory.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

# The plugins are separate distributions (pip install -e plugins/zoom -e plugins/teams
# -e plugins/meet). When
# they are not installed, their sources are importable from the work tree so these tests still
# run; only entry-point registration needs a real install (test_plugin_install covers it).
for _name in ("zoom", "teams", "meet"):
    if importlib.util.find_spec(f"blendkit_{_name}") is None:
        sys.path.insert(0, str(REPO_ROOT / "plugins" / _name / "src"))
SPECS_DIR = REPO_ROOT.parent / "shared" / "specs"
ZOOM_SPEC = SPECS_DIR / "zoom-meetings-openapi.json"
GRAPH_SPEC = SPECS_DIR / "graph-meetings-subset.json"


def load_spec(path: Path) -> Any:
    if not path.is_file():
        pytest.skip(
            f"vendor spec {path.name} not found in {SPECS_DIR} (the shared/specs directory beside "
            "the repository): contract tests skipped"
        )
    openapi_core = pytest.importorskip("openapi_core", reason="openapi-core is in the dev extra")
    from openapi_core.security.exceptions import SecurityProviderError
    from openapi_core.security.factories import SecurityProviderFactory
    from openapi_core.security.providers import BaseProvider

    class BearerProvider(BaseProvider):
        """oauth2 schemes: the request must carry ``Authorization: Bearer …``."""

        def __call__(self, parameters: Any) -> Any:
            value = parameters.header.get("Authorization", "")
            if not value.lower().startswith("bearer ") or len(value) < 8:
                raise SecurityProviderError("no bearer token in Authorization")
            return value[7:]

    class Providers(SecurityProviderFactory):
        PROVIDERS = {**SecurityProviderFactory.PROVIDERS, "oauth2": BearerProvider}  # noqa: RUF012

    # The Graph subset carries schema defaults the spec validator rejects ('null' as a
    # date-time); requests and answers are still validated against every schema.
    config = openapi_core.Config(security_provider_factory=Providers(), spec_validator_cls=None)
    return openapi_core.OpenAPI.from_file_path(str(path), config=config)


@pytest.fixture(scope="session")
def zoom_spec() -> Any:
    """Zoom's Meetings API spec (paths relative to https://api.zoom.us/v2)."""
    return load_spec(ZOOM_SPEC)


@pytest.fixture(scope="session")
def graph_spec() -> Any:
    """The Microsoft Graph v1.0 subset (events, onlineMeetings, subscriptions)."""
    return load_spec(GRAPH_SPEC)
