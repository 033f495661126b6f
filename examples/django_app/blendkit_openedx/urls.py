"""The plugin's URLs: blendkit's LTI and operator endpoints, and the tool's pages."""

from __future__ import annotations

from blendkit_openedx import views
from django.urls import include, path

urlpatterns = [
    path("", include("blendkit.integrations.django.urls")),
    path("course", views.course, name="course"),
    path("instructor", views.instructor, name="instructor"),
]
