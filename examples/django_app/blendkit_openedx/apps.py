"""The plugin app: edx-platform reads ``plugin_app`` (edx-django-utils' plugin mechanism) to add
the app's URLs under ``/blendkit/`` and to run its settings functions."""

from __future__ import annotations

from typing import Any, ClassVar

from django.apps import AppConfig

LMS = "lms.djangoapp"
CMS = "cms.djangoapp"


# edx-platform's settings types (openedx/core/djangoapps/plugins/constants.py: SettingsType).
_SETTINGS = {
    "common": {"relative_path": "settings.common"},
    "test": {"relative_path": "settings.common"},
    "devstack": {"relative_path": "settings.common"},
    "production": {"relative_path": "settings.production"},
}


class BlendkitOpenedxConfig(AppConfig):
    """Adds blendkit's LTI endpoints to the LMS and Studio."""

    name = "blendkit_openedx"
    verbose_name = "blendkit LTI 1.3 tool"
    default_auto_field = "django.db.models.BigAutoField"

    plugin_app: ClassVar[dict[str, Any]] = {
        "url_config": {
            LMS: {"namespace": "blendkit_openedx", "regex": r"^blendkit/", "relative_path": "urls"},
            CMS: {"namespace": "blendkit_openedx", "regex": r"^blendkit/", "relative_path": "urls"},
        },
        "settings_config": {LMS: _SETTINGS, CMS: _SETTINGS},
    }
