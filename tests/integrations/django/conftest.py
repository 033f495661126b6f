"""Django configured for the adapter's tests; a fresh runtime (own SQLite store) per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.django_settings import configure_django

configure_django()

from django.test import Client  # noqa: E402

from blendkit import Settings, Store  # noqa: E402
from blendkit.integrations.django import DjangoRuntime, close_runtime, install_runtime  # noqa: E402
from blendkit.lti import Launch  # noqa: E402

MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership#"

Install = Callable[..., DjangoRuntime]


@pytest.fixture
def install(tmp_path: Path) -> Iterator[Install]:
    """``install(store=None, migrate=True, **sections)``: the process runtime on a test store."""
    stores: list[Store] = []

    def make(store: Store | None = None, *, migrate: bool = True, **sections: Any) -> DjangoRuntime:
        tool = {"base_url": "http://testserver", "secret_key": "test-secret"}
        tool.update(sections.pop("tool", {}))
        target = store or Store(f"sqlite:///{tmp_path / 'tool.sqlite3'}")
        stores.append(target)
        settings = Settings(database={"url": str(target.url)}, tool=tool, **sections)
        return install_runtime(settings=settings, store=target, migrate=migrate)

    yield make
    close_runtime()
    for store in stores:
        store.dispose()


@pytest.fixture
def runtime(install: Install) -> DjangoRuntime:
    return install()


@pytest.fixture
def client() -> Client:
    return Client()


def a_launch(role: str = "Learner", sub: str = "s1", deployment: str = "d1") -> Launch:
    return Launch.model_validate(
        {
            "message_type": "LtiResourceLinkRequest",
            "version": "1.3.0",
            "issuer": "https://lms.example.edu",
            "client_id": "c1",
            "deployment_id": deployment,
            "user": {"sub": sub},
            "roles": [MEMBERSHIP + role],
            "context": {"id": "course-1", "title": "Course"},
            "target_link_uri": "http://testserver/lti/launch",
        }
    )
