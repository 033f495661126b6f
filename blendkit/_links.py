"""Links the tool puts into the pages learners open (``href``, a player's ``src``): an http(s)
address with a host, or a path on the tool's own site. Nothing else is a link a page may carry:
no ``javascript:``, ``data:`` or ``vbscript:`` (in any spelling a browser still reads as one),
and no ``//host`` or ``/\\host`` dressed as a path."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

__all__ = ["MAX_LINK_LENGTH", "page_link_problem", "web_link"]

MAX_LINK_LENGTH = 4096
# A browser drops tabs and line breaks anywhere in a URL and C0 controls and spaces around it,
# so ``java\tscript:`` is ``javascript:``; a link carrying any of them is refused outright. A
# backslash reads as a slash in http(s) URLs (``/\host`` is ``//host``).
_UNSAFE = re.compile(r"[\x00-\x20\x7f\\]")
_WEB = frozenset({"http", "https"})


def page_link_problem(url: str) -> str | None:
    """Why ``url`` may not be a link in a page (None when it may)."""
    if len(url) > MAX_LINK_LENGTH:
        return f"a link is at most {MAX_LINK_LENGTH} characters"
    if _UNSAFE.search(url):
        return "a link has no spaces, control characters or backslashes"
    try:
        parts = urlsplit(url)
    except ValueError:
        return "this is not a well-formed link"
    if parts.scheme:
        if parts.scheme.lower() not in _WEB or not parts.netloc:
            return "a link is a full http:// or https:// address, or a path on this site"
        return None
    if parts.netloc or url.startswith("//") or ":" in url.split("/", 1)[0]:
        return "a path on this site does not name another host or a scheme"
    return None


def web_link(url: str) -> str:
    """``url`` when it is an absolute http(s) link a page may carry (a meeting provider's join
    or recording page); ``ValueError`` otherwise (a pydantic validator)."""
    problem = page_link_problem(url)
    try:
        parts = urlsplit(url)
        absolute = parts.scheme.lower() in _WEB and bool(parts.netloc)
    except ValueError:
        absolute = False
    if not absolute:
        problem = "a provider's link is a full http:// or https:// address with a host"
    if problem is not None:
        # The value is not repeated: a provider's join link may carry a meeting password.
        raise ValueError(problem)
    return url
