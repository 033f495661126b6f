"""A meeting provider's answer that does not fit blendkit's models becomes a ``ProviderError``.

Providers build their answers into the session models (``ProviderMeeting``, ``JoinLink``,
``Recording``, ``ParticipantRecord``), which refuse what a page must never carry (a join link
that is no absolute http(s) address: ``javascript:alert(1)``). pydantic's ``ValidationError`` is
outside blendkit's error tree; :func:`provider_answers` turns it into a
:class:`~blendkit.errors.ProviderError` (``sessions.provider_invalid_answer``) that names the
provider, the model and the field, never the value (a join link may carry a meeting password).
The core wraps every call to a provider in it, and the plugins wrap their conversions.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pydantic import ValidationError

from blendkit.errors import ProviderError

__all__ = ["invalid_answer", "provider_answers"]

INVALID_ANSWER = "sessions.provider_invalid_answer"


def invalid_answer(provider: str, error: ValidationError) -> ProviderError:
    """The ``ProviderError`` for ``error``, raised while building ``provider``'s answer."""
    problems = error.errors(include_url=False, include_input=False, include_context=False)
    first = problems[0]
    field = ".".join(str(part) for part in first["loc"]) or "(the whole answer)"
    reason = first["msg"].removeprefix("Value error, ")
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return ProviderError(
        f"meeting provider {provider!r} answered a {error.title} whose {field!r} is not valid"
        f"{more}: {reason}. Check the meeting's settings at the provider, or upgrade its plugin; "
        "the value is not repeated here, as it may carry a meeting password",
        code=INVALID_ANSWER,
    )


@contextmanager
def provider_answers(provider: object) -> Iterator[None]:
    """Map a ``ValidationError`` raised in the block to :func:`invalid_answer`, naming
    ``provider`` (a provider object, by its ``name``, or the name itself)."""
    try:
        yield
    except ValidationError as exc:
        name = provider if isinstance(provider, str) else getattr(provider, "name", None)
        raise invalid_answer(str(name or type(provider).__name__), exc) from None
