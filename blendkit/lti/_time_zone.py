"""The learner's time zone as the platform sends it: one custom parameter, checked against IANA.

Canvas and Moodle both substitute ``$Person.address.timezone`` (Canvas from the user's settings,
Moodle from the profile's ``timezone``). Moodle sends ``99`` when the user keeps the site's
default, which names no zone: like any value that is not an IANA name, it is ignored so the next
source (the browser, then the course default) decides. Each ignored value is logged once per
process with its reason (the first 1,024 distinct ones); nothing else about the learner is
logged.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import cache
from typing import Any, Final
from zoneinfo import available_timezones

__all__ = [
    "LEGACY_ZONE_NAMES",
    "SERVER_DEFAULT_ZONE",
    "TIME_ZONE_PARAMETER",
    "TIME_ZONE_PARAMETERS",
    "TIME_ZONE_SUBSTITUTION",
    "canonical_time_zone",
    "is_time_zone",
    "platform_time_zone",
    "time_zone_names",
]

log = logging.getLogger("blendkit.lti.time_zone")

#: The custom parameter blendkit asks platforms for, and the variable they substitute into it.
TIME_ZONE_PARAMETER: Final = "timezone"
TIME_ZONE_SUBSTITUTION: Final = "$Person.address.timezone"
#: Custom parameter names read from a launch, in this order (older configurations used the others).
TIME_ZONE_PARAMETERS: Final = (TIME_ZONE_PARAMETER, "time_zone", "tz")
#: Moodle's value for "the site's default time zone": no zone of the learner's own.
SERVER_DEFAULT_ZONE: Final = "99"
#: Old IANA names that CLDR (and so browsers' ``Intl`` API) still report → today's IANA name.
#: Chromium says ``Asia/Katmandu`` and ``Asia/Calcutta`` where tzdata says Kathmandu and Kolkata.
LEGACY_ZONE_NAMES: Final[Mapping[str, str]] = {
    "Africa/Asmera": "Africa/Asmara",
    "America/Buenos_Aires": "America/Argentina/Buenos_Aires",
    "America/Catamarca": "America/Argentina/Catamarca",
    "America/Coral_Harbour": "America/Atikokan",
    "America/Cordoba": "America/Argentina/Cordoba",
    "America/Godthab": "America/Nuuk",
    "America/Indianapolis": "America/Indiana/Indianapolis",
    "America/Jujuy": "America/Argentina/Jujuy",
    "America/Louisville": "America/Kentucky/Louisville",
    "America/Mendoza": "America/Argentina/Mendoza",
    "Asia/Calcutta": "Asia/Kolkata",
    "Asia/Katmandu": "Asia/Kathmandu",
    "Asia/Rangoon": "Asia/Yangon",
    "Asia/Saigon": "Asia/Ho_Chi_Minh",
    "Atlantic/Faeroe": "Atlantic/Faroe",
    "Etc/UTC": "UTC",
    "Europe/Kiev": "Europe/Kyiv",
    "Pacific/Enderbury": "Pacific/Kanton",
    "Pacific/Ponape": "Pacific/Pohnpei",
    "Pacific/Truk": "Pacific/Chuuk",
}
_LONGEST: Final = 64
_REMEMBERED: Final = 1024  # distinct ignored values logged per process, then no more
_logged: set[tuple[str, str]] = set()


@cache
def time_zone_names() -> frozenset[str]:
    """Every IANA zone name this Python's time zone database knows."""
    return frozenset(available_timezones() | {"UTC"})


def is_time_zone(value: object) -> bool:
    """Whether ``value`` is an IANA zone name such as ``Asia/Kathmandu`` (never raises)."""
    return isinstance(value, str) and value in time_zone_names()


def canonical_time_zone(value: object) -> str | None:
    """``value`` as today's IANA name (legacy names browsers report mapped), or None when it
    names no zone; never raises."""
    if not isinstance(value, str):
        return None
    name = LEGACY_ZONE_NAMES.get(value.strip(), value.strip())
    return name if is_time_zone(name) else None


def _why_not(value: str) -> str:
    if value == SERVER_DEFAULT_ZONE:
        return "is Moodle's 'server default' (the learner chose no zone)"
    if value.startswith("$"):
        return "was not substituted: the platform does not know this variable"
    return "is not an IANA time zone name"


def _ignore(name: str, value: str) -> None:
    shown = value[:_LONGEST]
    if (name, shown) in _logged or len(_logged) >= _REMEMBERED:
        return
    _logged.add((name, shown))
    log.info(
        "custom parameter %s=%r %s; the next time zone source applies",
        name,
        shown,
        _why_not(value),
    )


def platform_time_zone(custom: Mapping[str, Any]) -> str | None:
    """The first valid IANA zone among the launch's time zone custom parameters (in today's
    name), or None.

    Empty values are skipped silently; ``99``, unsubstituted variables and other non-zones are
    skipped with a reason logged once.
    """
    for name in TIME_ZONE_PARAMETERS:
        raw = custom.get(name)
        if raw is None:
            continue
        value = str(raw).strip()
        if not value:
            continue
        zone = canonical_time_zone(value)
        if zone is not None:
            return zone
        _ignore(name, value)
    return None
