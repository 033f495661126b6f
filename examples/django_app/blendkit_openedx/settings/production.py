"""``plugin_settings`` for production: the common ones, plus ``BLENDKIT`` from the operator's
YAML configuration (``ENV_TOKENS["BLENDKIT"]`` on releases that still expose ENV_TOKENS)."""

from __future__ import annotations

from typing import Any

from blendkit_openedx.settings import common


def plugin_settings(settings: Any) -> None:
    common.plugin_settings(settings)
    tokens = getattr(settings, "ENV_TOKENS", None) or {}
    configured = tokens.get("BLENDKIT")
    if configured:
        settings.BLENDKIT = configured
