"""The installed version of blendkit."""

__version__ = "0.1.0"
