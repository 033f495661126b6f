"""The blendkit example tool: what an institution installs in its LMS.

``flask --app blendkit_examples.flask_app run`` serves it with settings from ``BLENDKIT_CONFIG`` and
``BLENDKIT_*`` variables. It uses only blendkit's public API.
"""

from __future__ import annotations

from blendkit_examples.flask_app.app import create_app

__all__ = ["create_app"]
