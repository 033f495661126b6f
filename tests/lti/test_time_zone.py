"""The learner's zone from the platform: asked for by default, checked against IANA, ``99`` and
garbage ignored with a reason logged once."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import given
from hypothesis import strategies as st

from blendkit.lti import (
    LEGACY_ZONE_NAMES,
    ToolConfig,
    _time_zone,
    canonical_time_zone,
    canvas_developer_key_config,
    is_time_zone,
    platform_time_zone,
)

TOOL = ToolConfig(base_url="https://tool.example.edu", title="blendkit demo")
ZONES = sorted(available_timezones())


def test_the_config_file_can_stop_asking() -> None:
    from blendkit.config import Settings

    assert ToolConfig.from_settings(Settings()).ask_time_zone
    quiet = ToolConfig.from_settings(Settings(tool={"ask_time_zone": False}))
    assert "timezone" not in canvas_developer_key_config(quiet)["custom_fields"]


def test_canvas_developer_key_asks_for_the_learners_zone() -> None:
    fields = canvas_developer_key_config(TOOL)["custom_fields"]
    assert fields["timezone"] == "$Person.address.timezone"
    quiet = canvas_developer_key_config(TOOL.model_copy(update={"ask_time_zone": False}))
    assert "timezone" not in quiet["custom_fields"]


@pytest.mark.parametrize(
    ("custom", "expected"),
    [
        ({"timezone": "Asia/Kathmandu"}, "Asia/Kathmandu"),
        ({"timezone": " Asia/Kolkata "}, "Asia/Kolkata"),
        ({"timezone": "99"}, None),  # Moodle: the learner keeps the site's default
        ({"timezone": "99", "tz": "Europe/Berlin"}, "Europe/Berlin"),
        ({"timezone": "$Person.address.timezone"}, None),  # a platform that does not substitute
        ({"timezone": "Mars/Olympus", "time_zone": "America/St_Johns"}, "America/St_Johns"),
        ({"timezone": "", "time_zone": "Australia/Eucla"}, "Australia/Eucla"),
        ({"timezone": "../../etc/passwd"}, None),
        ({"timezone": "Europe/Berlin", "tz": "Asia/Tokyo"}, "Europe/Berlin"),
        ({}, None),
    ],
)
def test_platform_zone_precedence_and_fall_through(
    custom: dict[str, str], expected: str | None
) -> None:
    assert platform_time_zone(custom) == expected


def test_an_ignored_value_is_logged_once_with_its_reason(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_time_zone, "_logged", set())  # what earlier tests logged is forgotten
    with caplog.at_level(logging.INFO, logger="blendkit.lti.time_zone"):
        for _ in range(3):
            assert platform_time_zone({"timezone": "99", "user": "ana"}) is None
    (record,) = [r for r in caplog.records if r.name == "blendkit.lti.time_zone"]
    assert "server default" in record.getMessage()
    assert "ana" not in record.getMessage()  # nothing but the value itself


@given(
    st.dictionaries(
        st.sampled_from(["timezone", "time_zone", "tz", "other"]),
        st.one_of(st.text(max_size=80), st.sampled_from(ZONES), st.integers(), st.none()),
    )
)
def test_any_custom_parameters_give_a_valid_zone_or_none(custom: dict[str, object]) -> None:
    found = platform_time_zone(custom)
    assert found is None or (found in available_timezones() or found == "UTC")
    if found is not None:
        assert ZoneInfo(found).key == found
    zones = [v for k, v in custom.items() if k != "other" and isinstance(v, str)]
    if found is None:
        assert not any(is_time_zone(v.strip()) for v in zones)


@given(st.text(max_size=100))
def test_is_time_zone_never_raises_and_accepts_only_iana_names(value: str) -> None:
    assert is_time_zone(value) == (value in available_timezones() or value == "UTC")


def test_legacy_names_browsers_report_become_todays_iana_names() -> None:
    assert canonical_time_zone("Asia/Katmandu") == "Asia/Kathmandu"  # Chromium's Intl answer
    assert canonical_time_zone("Asia/Calcutta") == "Asia/Kolkata"
    assert canonical_time_zone("Asia/Kolkata") == "Asia/Kolkata"
    assert platform_time_zone({"tz": "Europe/Kiev"}) == "Europe/Kyiv"
    for old, new in LEGACY_ZONE_NAMES.items():
        assert is_time_zone(new), new
        # the same clock: both names give the same offset at every checked instant
        for month in range(1, 13, 3):
            moment = datetime(2026, month, 1, tzinfo=UTC)
            assert moment.astimezone(ZoneInfo(old)).utcoffset() == (
                moment.astimezone(ZoneInfo(new)).utcoffset()
            ), old


@given(st.one_of(st.text(max_size=60), st.sampled_from(sorted(LEGACY_ZONE_NAMES)), st.none()))
def test_canonical_time_zone_never_raises_and_gives_only_iana_names(value: object) -> None:
    found = canonical_time_zone(value)
    assert found is None or is_time_zone(found)
