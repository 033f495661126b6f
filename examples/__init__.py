"""Runnable examples built on blendkit's public API."""
