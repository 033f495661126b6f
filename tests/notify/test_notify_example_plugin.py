"""The third-party notifier of docs/examples (Matrix), loaded through the ``blendkit.notifiers``
entry points beside the built-in ones, against a scripted homeserver."""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib.metadata import EntryPoint
from pathlib import Path

import httpx
import pytest

from blendkit import plugins
from blendkit.config import Settings
from blendkit.errors import PluginError
from blendkit.notify import (
    Delivered,
    Message,
    Notifier,
    PermanentFailure,
    Recipient,
    RetryableFailure,
    available_notifiers,
    load_notifier,
)
from blendkit.plugins import NOTIFIERS_GROUP, SETTINGS_GROUP, PluginLoadWarning
from tests.fence import public_resolver

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
ROOM = "!cohort:example.org"


@pytest.fixture
def matrix_installed(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The example declared as an installed distribution would declare it."""
    extra = {"matrix": "matrix_notifier:MatrixNotifier"}
    original = plugins._entry_points

    def entry_points(group: str) -> tuple[EntryPoint, ...]:
        found = original(group)
        if group == SETTINGS_GROUP:
            value = "matrix_notifier:MatrixSettings"
            return (*found, EntryPoint(name="matrix", value=value, group=group))
        if group == NOTIFIERS_GROUP:
            added = (EntryPoint(name=n, value=v, group=group) for n, v in extra.items())
            return tuple(sorted((*found, *added), key=lambda ep: ep.name))
        return found

    monkeypatch.setattr(plugins, "_entry_points", entry_points)
    monkeypatch.syspath_prepend(str(EXAMPLES))
    plugins.clear_plugin_cache()
    yield extra
    plugins.clear_plugin_cache()


class Homeserver:
    """Just enough of the client-server API: room messages, deduplicated by transaction id."""

    def __init__(self) -> None:
        self.events: dict[str, dict[str, object]] = {}
        self.busy = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("authorization") != "Bearer syt_token":
            return httpx.Response(401, json={"errcode": "M_UNKNOWN_TOKEN"})
        if self.busy:
            self.busy -= 1
            return httpx.Response(429, headers={"retry-after": "0"}, json={"errcode": "M_LIMIT"})
        parts = request.url.raw_path.decode().split("/")
        room, txn = parts[5], parts[-1]
        if room != "%21cohort%3Aexample.org":
            return httpx.Response(403, json={"errcode": "M_FORBIDDEN"})
        self.events.setdefault(txn, json.loads(request.content))
        return httpx.Response(200, json={"event_id": f"$e{list(self.events).index(txn)}"})


def matrix(server: Homeserver, token: str = "syt_token") -> Notifier:
    settings = Settings(matrix={"homeserver": "https://matrix.example.org", "access_token": token})
    client = httpx.Client(transport=httpx.MockTransport(server))
    return load_notifier("matrix", settings, client=client, resolver=public_resolver)


def message(room: str = ROOM) -> Message:
    return Message(
        recipient=Recipient(address=room),
        subject="Now open: Lab report",
        text="Lab report in BIO101 is now open.",
        html="<p>Lab report in BIO101 is now open.</p>",
        key="cohort:item-lab:v1",
    )


def test_the_example_is_listed_beside_the_built_in_notifiers(
    matrix_installed: dict[str, str],
) -> None:
    assert available_notifiers() == ["catcher", "email", "matrix", "webhook"]


def test_a_repeated_send_is_one_event(matrix_installed: dict[str, str]) -> None:
    server = Homeserver()
    notifier = matrix(server)
    first, second = notifier.send(message()), notifier.send(message())
    assert first == second == Delivered(detail="event $e0")
    (event,) = server.events.values()
    assert event["body"] == "Now open: Lab report\n\nLab report in BIO101 is now open."
    assert event["formatted_body"] == "<p>Lab report in BIO101 is now open.</p>"


def test_outcomes(matrix_installed: dict[str, str]) -> None:
    server = Homeserver()
    server.busy = 10
    assert isinstance(matrix(server).send(message()), RetryableFailure)
    server.busy = 0
    assert matrix(server).send(message("!other:example.org")) == PermanentFailure(
        reason="HTTP 403 M_FORBIDDEN"
    )


def test_a_factory_that_returns_no_notifier_is_refused(
    matrix_installed: dict[str, str],
) -> None:
    matrix_installed["odd"] = "builtins:dict"
    with pytest.raises(PluginError, match="returned dict"):
        load_notifier("odd", Settings())


def test_a_broken_notifier_plugin_warns_and_the_others_load(
    matrix_installed: dict[str, str],
) -> None:
    matrix_installed["broken"] = "no_such_module_for_blendkit:Notifier"
    with pytest.warns(PluginLoadWarning, match="'broken'"):
        assert available_notifiers() == ["catcher", "email", "matrix", "webhook"]


def test_the_kill_switch_skips_one_notifier(
    matrix_installed: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BLENDKIT_DISABLE_PLUGINS", "blendkit.notifiers:matrix")
    plugins.clear_plugin_cache()
    assert available_notifiers() == ["catcher", "email", "webhook"]
    with pytest.raises(PluginError, match="available: catcher, email, webhook"):
        load_notifier("matrix", Settings(matrix={"homeserver": "https://m.example"}))
