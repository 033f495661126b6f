"""Suspicion 13: a one-click unsubscribe token is a bearer credential in a URL path.

``/unsubscribe/<token>`` unsubscribes a learner for a year without a login, and its payload names
the learner's LMS id; like a calendar feed token it must never reach an access log in clear.
Before the fix the path was logged as is (this test failed there).
"""

from __future__ import annotations

from blendkit.integrations.access_log import redact_query_parameters
from blendkit.notify import UnsubscribeTokens

# --- unsubscribe tokens in logs ---------------------------------------------------------------


def _token() -> str:
    return UnsubscribeTokens("k").issue(7, "tenant", "learner-sub-42", "*")


def test_an_unsubscribe_token_in_a_path_is_redacted_wherever_it_is_logged() -> None:
    token = _token()
    for line in (
        f'"GET /unsubscribe/{token} HTTP/1.1" 200',
        f'"POST /unsubscribe/{token} HTTP/1.1" 200',
        f"Not Found: /unsubscribe/{token}",
        f"\x1b[33mGET /unsubscribe/{token}?x=1 HTTP/1.1\x1b[0m",
        f"database unavailable on GET http://tool.test/unsubscribe/{token}",
    ):
        redacted = redact_query_parameters(line)
        assert token not in redacted, line
        assert token.split(".")[0] not in redacted, "the payload names the learner"
        assert "/unsubscribe/[redacted]" in redacted
