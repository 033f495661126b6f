"""A small RFC 5545 content-line writer for the properties the feeds use (no I/O).

Values are typed by their Python type: ``str`` is TEXT (escaped), :class:`Uri` is a URI (as
is), aware ``datetime`` is DATE-TIME (UTC with ``Z``, any other zone with its ``TZID``),
``date`` is DATE, ``int`` is INTEGER, ``timedelta`` is DURATION, a ``dict`` is an RRULE, a list
of datetimes an EXDATE list and a list of strings a TEXT list. Lines end in CRLF and are folded
at 75 octets without splitting a UTF-8 character (RFC 5545 §3.1).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

__all__ = ["Properties", "Uri", "duration_text", "forget_values", "write_component"]

Properties = list[tuple[str, Any]]


class Uri(str):
    """A URI value: written as is (TEXT escaping would corrupt ``;`` and ``,`` in a link)."""

    __slots__ = ()


_SPECIAL = re.compile(r"[\\;,\x00-\x08\x0a-\x1f\x7f]")
# RFC 5545 allows no control character but HTAB in a value; the line breaks among them are
# escaped (TEXT) first, and whatever is left is dropped: a value never ends its content line.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def _escape(text: str) -> str:
    if _SPECIAL.search(text) is None:
        return text
    escaped = (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )
    return _CONTROL.sub("", escaped)


def _uri(value: str) -> str:
    """A URI as written: percent-encoded control characters (a URI has none, and a line break
    in one would start a property of the sender's choosing), everything else as is."""
    if _CONTROL.search(value) is None:
        return value
    return _CONTROL.sub(lambda m: f"%{ord(m.group()):02X}", value)


def duration_text(span: timedelta) -> str:
    """An RFC 5545 DURATION of whole minutes (``PT1H``, ``PT90M``, ``P1D``)."""
    minutes = int(span.total_seconds()) // 60
    if minutes % (24 * 60) == 0:
        return f"P{minutes // (24 * 60)}D"
    if minutes % 60 == 0:
        return f"PT{minutes // 60}H"
    return f"PT{minutes}M"


def _stamp(m: datetime) -> str:
    return f"{m.year:04d}{m.month:02d}{m.day:02d}T{m.hour:02d}{m.minute:02d}{m.second:02d}"


_MOMENTS: dict[tuple[datetime, object], tuple[str, str]] = {}
_MOMENTS_LIMIT = 65536


def _moment(moment: datetime) -> tuple[str, str]:
    """``(parameters, value)`` of an aware DATE-TIME: UTC (and any fixed offset) with ``Z``,
    an IANA zone with its ``TZID``. Kept per moment and zone (aware datetimes in different
    zones compare equal, so the zone is part of the key): a feed writes the same change stamps
    and sittings again and again."""
    known = (moment, moment.tzinfo)
    found = _MOMENTS.get(known)
    if found is not None:
        return found
    key = getattr(moment.tzinfo, "key", None)
    if key is None or key in ("UTC", "Etc/UTC"):
        found = "", _stamp(moment.astimezone(UTC)) + "Z"
    else:
        found = f";TZID={key}", _stamp(moment)
    if len(_MOMENTS) >= _MOMENTS_LIMIT:
        _MOMENTS.clear()
    _MOMENTS[known] = found
    return found


def _rule(parts: dict[str, Any]) -> str:
    out = []
    for name, value in parts.items():
        if isinstance(value, datetime):
            text = _stamp(value.astimezone(UTC)) + "Z"
        elif isinstance(value, list | tuple):
            text = ",".join(str(v) for v in value)
        else:
            text = str(value)
        out.append(f"{name}={text}")
    return ";".join(out)


def _line(name: str, value: Any) -> str:
    kind = type(value)
    if kind is str:
        return f"{name}:{_escape(value)}"
    if kind is datetime:
        params, text = _moment(value)
        return f"{name}{params}:{text}"
    if isinstance(value, Uri):
        return f"{name}:{_uri(value)}"
    if isinstance(value, str):
        return f"{name}:{_escape(value)}"
    if isinstance(value, bool):
        raise TypeError(f"{name}: no boolean property is written")
    if isinstance(value, int):
        return f"{name}:{value}"
    if isinstance(value, datetime):
        params, text = _moment(value)
        return f"{name}{params}:{text}"
    if isinstance(value, date):
        return f"{name};VALUE=DATE:{value.strftime('%Y%m%d')}"
    if isinstance(value, timedelta):
        return f"{name};VALUE=DURATION:{duration_text(value)}"
    if isinstance(value, dict):
        return f"{name}:{_rule(value)}"
    if isinstance(value, list) and value and isinstance(value[0], datetime):
        params, _ = _moment(value[0])
        return f"{name}{params}:" + ",".join(_moment(v)[1] for v in value)
    if isinstance(value, list):
        return f"{name}:" + ",".join(_escape(str(v)) for v in value)
    raise TypeError(f"{name}: no writer for {type(value).__name__}")


def _fold(line: str) -> str:
    if len(line) <= 75 and line.isascii():
        return line + "\r\n"
    data = line.encode("utf-8")
    if len(data) <= 75:
        return line + "\r\n"
    chunks = []
    start, limit = 0, 75
    while start < len(data):
        end = min(start + limit, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:  # inside a UTF-8 character
            end -= 1
        chunks.append(data[start:end])
        start, limit = end, 74  # continuation lines start with one space
    return "\r\n ".join(c.decode("utf-8") for c in chunks) + "\r\n"


_LINES: dict[tuple[str, object, object], str] = {}
_LINES_LIMIT = 65536


def _written(name: str, value: Any) -> str:
    """A folded property line; a text, number or moment is kept per value, since a feed repeats
    its stamps, statuses and categories in every event (the key holds the value's type, or a
    moment's zone: equal values of another kind are written differently)."""
    kind = type(value)
    if kind is str or kind is Uri or kind is int:
        known: tuple[str, object, object] = (name, value, kind)
    elif kind is datetime:
        known = (name, value, value.tzinfo)
    else:
        return _fold(_line(name, value))
    found = _LINES.get(known)
    if found is None:
        if len(_LINES) >= _LINES_LIMIT:
            _LINES.clear()
        found = _LINES[known] = _fold(_line(name, value))
    return found


def forget_values() -> None:
    """Drop the kept lines and moments (the next feed is written from its values alone)."""
    _LINES.clear()
    _MOMENTS.clear()


def write_component(name: str, props: Properties, *, end: bool = True) -> str:
    """``BEGIN:name``, the folded property lines, and ``END:name`` unless ``end`` is false."""
    body = "".join([_written(key, value) for key, value in props])
    return f"BEGIN:{name}\r\n{body}" + (f"END:{name}\r\n" if end else "")
