"""blendkit's URLs, to ``include()`` at the path that ``[tool] base_url`` names::

    urlpatterns = [path("", include("blendkit.integrations.django.urls")), ...]

With ``base_url = "https://lms.example.edu/blendkit"`` include them at ``"blendkit/"``.
Names (namespace ``blendkit``): ``login``, ``launch``, ``jwks``, ``register``, ``canvas_json``,
``healthz``, ``readyz``, ``metrics``, ``calendar_feed``.
"""

from __future__ import annotations

from django.urls import path

from blendkit.integrations.django import views
from blendkit.integrations.django._translate import URL_NAMESPACE

app_name = URL_NAMESPACE

urlpatterns = [
    path("lti/login", views.login, name="login"),
    path("lti/launch", views.launch, name="launch"),
    path("lti/jwks", views.jwks, name="jwks"),
    path("lti/register", views.register, name="register"),
    path("lti/canvas.json", views.canvas_json, name="canvas_json"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", views.metrics, name="metrics"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
]
