"""blendkit's LTI 1.3 tool inside an Open edX instance (an edx-django-utils plugin app)."""
