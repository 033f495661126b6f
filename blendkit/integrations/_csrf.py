"""CSRF tokens for a host app's own forms inside the LMS frame, bound to the launch.

Pages inside the LMS iframe carry ``launch=<launch_id>`` instead of a cookie, so a cross-site
form cannot name a launch it does not know; the token makes that explicit: an HMAC of the launch
id under the tool's secret key (``[tool] secret_key``, or the key generated once and kept in the
database). A form from another launch or another site fails with ``app.csrf_failed`` (403). The
platform-posted LTI endpoints (``/lti/login``, ``/lti/launch``) are protected by the OIDC state
and nonce instead, and need no token.
"""

from __future__ import annotations

import hashlib
import hmac

from blendkit.config import Settings
from blendkit.errors import BlendkitError, LaunchRejected
from blendkit.store import KeyEncryption, Store, StoredSecrets

__all__ = ["CSRF_FIELD", "CSRF_HEADER", "SECRET_KEY_NAME", "LaunchCsrf"]

CSRF_FIELD = "csrf"
"""The form field that carries the token."""
CSRF_HEADER = "X-CSRF-Token"
"""The header alternative to :data:`CSRF_FIELD` (for scripts in the frame)."""
SECRET_KEY_NAME = "secret_key"  # noqa: S105  # the row name of the generated key, not a secret


class LaunchCsrf:
    """Issues and checks launch-bound CSRF tokens (the same tokens as the Flask example's)."""

    def __init__(self, key: str) -> None:
        if not key:
            raise ValueError("a CSRF key cannot be empty")
        self._key = key.encode()

    def __repr__(self) -> str:
        return "LaunchCsrf(<key hidden>)"

    @classmethod
    def from_settings(cls, settings: Settings, store: Store) -> LaunchCsrf:
        """The key of ``[tool] secret_key``, or one generated once and shared through ``store``
        by every worker (encrypted with ``[tool] key_encryption_keys``)."""
        key = settings.tool.secret_key.get_secret_value()
        if not key:
            key = StoredSecrets(store, KeyEncryption.from_settings(settings)).value(
                SECRET_KEY_NAME,
                what="[tool] secret_key is empty, so one key is generated for every worker and "
                "kept in the database (or set [tool] secret_key yourself); that key",
            )
        return cls(key)

    def token(self, launch_id: str) -> str:
        """The token forms of ``launch_id`` carry."""
        return hmac.new(self._key, f"csrf\0{launch_id}".encode(), hashlib.sha256).hexdigest()

    def verify(self, launch_id: str | None, presented: str | None) -> None:
        """Refuse a state-changing request without its launch or with a token of another one."""
        if not launch_id:
            raise LaunchRejected(
                "this form was sent without its launch; open the tool again from your course",
                code="lti.launch_session_expired",
                http_status=401,
            )
        if not hmac.compare_digest(presented or "", self.token(launch_id)):
            raise BlendkitError(
                "the form's security token does not match this launch (it was sent from another "
                "page or an old launch); reload the page from your course and submit again",
                code="app.csrf_failed",
                http_status=403,
            )
