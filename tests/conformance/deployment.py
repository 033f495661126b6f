"""One framework's conformance app next to an independent platform, and the LTI flows the tests
drive against it over real HTTP (an httpx client keeps the browser's cookies)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

import httpx

from blendkit import Settings, Store
from blendkit.lti import Platform, StorePlatformRegistry
from tests.conformance.apps import Server, load
from tests.e2e.form_browser import Form, forms
from tests.e2e.lti_platform import LTIPlatform

METRICS_TOKEN = "conformance-metrics-token-0123456789"
MAX_REQUEST_BYTES = 65_536
MAX_LTI_BYTES = 16_384
NRPS_PAGE_SIZE = 3


def tool_settings(url: str, database: Path) -> Settings:
    """The settings every framework's app runs on in the suite."""
    return Settings(
        database={"url": f"sqlite:///{database}"},
        tool={
            "base_url": url,
            "secret_key": "conformance-secret",
            "max_request_bytes": MAX_REQUEST_BYTES,
            "max_webhook_bytes": MAX_LTI_BYTES,
        },
        # The platforms run on loopback over http: allowed by name, in production mode.
        http={"allowed_hosts": ["127.0.0.1", "localhost"]},
        lti={"registration_enabled": True},
        metrics={"token": METRICS_TOKEN},
    )


@dataclass
class ToolUnderTest:
    framework: str
    url: str
    platform: LTIPlatform
    settings: Settings
    store: Store
    database_dir: Path

    def path(self, path: str) -> str:
        return self.url + path

    def remove_database(self) -> None:
        """The database goes away: pooled connections closed, its directory deleted."""
        self.store.engine.dispose()
        shutil.rmtree(self.database_dir)


def register(store: Store, platform_issuer: str, platform: Any) -> None:
    StorePlatformRegistry(store).add(
        Platform(
            issuer=platform_issuer,
            client_id=platform.client_id,
            deployment_ids=(platform.deployment_id,),
            auth_login_url=platform.auth_login_url,
            auth_token_url=platform.token_url,
            jwks_url=platform.jwks_url,
            name=f"{type(platform).__name__} conformance",
        )
    )


@contextmanager
def running_server(
    framework: str, tmp_path: Path
) -> Iterator[tuple[Server, Settings, Store, Path]]:
    """``framework``'s app bound and started on a fresh, migrated SQLite database."""
    server: Server = load(framework).bind()
    database_dir = tmp_path / f"{framework}-db"
    database_dir.mkdir()
    settings = tool_settings(server.url, database_dir / "tool.sqlite3")
    store = Store(settings.database.url)
    store.migrate()
    try:
        yield server, settings, store, database_dir
    finally:
        server.stop()
        store.dispose()


@contextmanager
def running_tool(framework: str, tmp_path: Path) -> Iterator[ToolUnderTest]:
    """The app of ``framework`` with lti1p3platform registered and running."""
    with running_server(framework, tmp_path) as (server, settings, store, database_dir):
        platform = LTIPlatform(nrps_page_size=NRPS_PAGE_SIZE)
        platform.configure_tool(server.url)
        register(store, platform.issuer, platform)
        platform.start()
        try:
            server.start(settings, store)
            yield ToolUnderTest(framework, server.url, platform, settings, store, database_dir)
        finally:
            platform.stop()


# -- flows ----------------------------------------------------------------------------------------


@dataclass
class Launched:
    """What a launch left: the platform's auto-submit form (id_token + state) and the answer."""

    form: Form
    answer: httpx.Response

    def json(self) -> dict[str, Any]:
        assert self.answer.status_code == 200, self.answer.text
        assert self.answer.headers["content-type"].startswith("application/json")
        body: dict[str, Any] = self.answer.json()
        return body


def login(
    client: httpx.Client, tool: ToolUnderTest, login_url: str, method: Literal["GET", "POST"]
) -> httpx.Response:
    """The platform's OIDC login initiation, sent to the tool by GET or as a form POST."""
    if method == "GET":
        return client.get(login_url)
    parts = urlsplit(login_url)
    target = f"{parts.scheme}://{parts.netloc}{parts.path}"
    return client.post(target, data=dict(parse_qsl(parts.query)))


def launch(
    client: httpx.Client,
    tool: ToolUnderTest,
    *,
    user: str = "student-1",
    role: str = "learner",
    message: str = "resource",
    method: Literal["GET", "POST"] = "GET",
    dl_data: str | None = None,
) -> Launched:
    """Platform launch page → tool login → platform auth → id_token form-posted to the tool."""
    start = client.get(
        tool.platform.launch_url(user=user, role=role, message=message, dl_data=dl_data)
    )
    assert start.status_code == 302, start.text
    login_url = start.headers["location"]
    assert login_url.startswith(tool.path("/lti/login?"))
    to_platform = login(client, tool, login_url, method)
    assert to_platform.status_code == 302, to_platform.text
    assert to_platform.headers["location"].startswith(tool.platform.auth_login_url)
    auth = client.get(to_platform.headers["location"])
    assert auth.status_code == 200, auth.text
    (form,) = forms(auth.text)
    assert form.action == tool.path("/lti/launch")
    return Launched(form=form, answer=client.post(form.action, data=form.fields))


def kept(client: httpx.Client, tool: ToolUnderTest, launch_id: str, path: str) -> httpx.Response:
    """A host-app route for the kept launch ``launch_id`` (``launch=`` query parameter)."""
    return client.get(tool.path(path), params={"launch": launch_id})
