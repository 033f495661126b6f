"""The plugin's URLs under ``/blendkit/``, where its ``url_config`` puts them in the LMS."""

from django.urls import include, path

urlpatterns = [
    path("blendkit/", include(("blendkit_openedx.urls", "blendkit_openedx"))),
]
