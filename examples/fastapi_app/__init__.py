"""A small FastAPI tool on blendkit's Starlette adapter (see ``docs/integrations/starlette.md``).

``uvicorn --factory blendkit_examples.fastapi_app:create_app`` serves it with settings from
``BLENDKIT_CONFIG`` and ``BLENDKIT_*`` variables. It uses only blendkit's public API.
"""

from __future__ import annotations

from blendkit_examples.fastapi_app.app import create_app

__all__ = ["create_app"]
