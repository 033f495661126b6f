"""Plain request and response values: what a web framework hands the LTI core and gets back.

An adapter (Flask, Django, an ASGI app) copies its request into :class:`HttpRequest`, calls the
tool, and copies the :class:`HttpResponse` back; the core itself does no I/O with the browser.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from blendkit.errors import BlendkitError

__all__ = ["HttpRequest", "HttpResponse", "SetCookie", "error_response"]


class HttpRequest(BaseModel):
    """One incoming HTTP request, already parsed by the framework.

    Header names are stored lower-cased so :meth:`header` looks them up case-insensitively.
    """

    model_config = ConfigDict(frozen=True)

    method: str = "GET"
    url: str = ""
    headers: dict[str, str] = Field(default_factory=dict)
    query: dict[str, str] = Field(default_factory=dict)
    form: dict[str, str] = Field(default_factory=dict)
    cookies: dict[str, str] = Field(default_factory=dict)

    @field_validator("headers", mode="before")
    @classmethod
    def _lower_names(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {str(k).lower(): v for k, v in value.items()}
        if isinstance(value, list | tuple):
            return {str(k).lower(): v for k, v in value}
        return value

    @field_validator("method")
    @classmethod
    def _upper_method(cls, value: str) -> str:
        return value.upper()

    def header(self, name: str, default: str | None = None) -> str | None:
        """The value of header ``name`` (any case), or ``default``."""
        return self.headers.get(name.lower(), default)

    def param(self, name: str) -> str | None:
        """A parameter from the form body, else from the query string (OIDC allows both)."""
        value = self.form.get(name)
        return value if value is not None else self.query.get(name)


class SetCookie(BaseModel):
    """A cookie the adapter must set on the response."""

    model_config = ConfigDict(frozen=True)

    name: str
    value: str
    max_age: int | None = None
    path: str = "/"
    secure: bool = True
    httponly: bool = True
    samesite: Literal["None", "Lax", "Strict"] = "None"

    def header_value(self) -> str:
        """The ``Set-Cookie`` header value, for adapters that write raw headers."""
        parts = [f"{self.name}={self.value}", f"Path={self.path}"]
        if self.max_age is not None:
            parts.append(f"Max-Age={self.max_age}")
        if self.secure:
            parts.append("Secure")
        if self.httponly:
            parts.append("HttpOnly")
        parts.append(f"SameSite={self.samesite}")
        return "; ".join(parts)


class HttpResponse(BaseModel):
    """The response an adapter must send: status, headers (in order), body, cookies to set."""

    model_config = ConfigDict(frozen=True)

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: str = ""
    cookies: tuple[SetCookie, ...] = ()

    def header(self, name: str) -> str | None:
        """The first header called ``name`` (any case), or None."""
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None


_ERROR_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body><h1>{title}</h1><p>{message}</p><p>Error code: <code>{code}</code></p></body></html>
"""


def error_response(error: BlendkitError) -> HttpResponse:
    """A small HTML page naming the error code and message, never cached."""
    title = "The launch was refused" if error.http_status < 500 else "The tool could not continue"
    body = _ERROR_PAGE.format(
        title=title,
        message=html.escape(error.message),
        code=html.escape(error.code),
    )
    return HttpResponse(
        status=error.http_status,
        headers=(
            ("Content-Type", "text/html; charset=utf-8"),
            ("Cache-Control", "no-store"),
            ("X-Content-Type-Options", "nosniff"),
            ("Content-Security-Policy", "default-src 'none'"),
        ),
        body=body,
    )
