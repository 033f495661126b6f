"""Settings functions the plugin mechanism calls with the LMS/Studio settings module."""
