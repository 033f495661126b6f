"""Fixtures of the conformance suite: every test runs once per framework module in ``apps/``.

``tool`` is the framework's conformance app on its own loopback port, with a fresh SQLite
database in which the independent platform (lti1p3platform, :mod:`tests.e2e.lti_platform`) is
registered; ``client`` is a cookie-keeping HTTP client playing the browser.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conformance.apps import framework_names
from tests.conformance.deployment import ToolUnderTest, running_tool


@pytest.fixture(params=framework_names())
def framework(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def tool(framework: str, tmp_path: Path) -> Iterator[ToolUnderTest]:
    with running_tool(framework, tmp_path) as running:
        yield running


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as http:
        yield http
