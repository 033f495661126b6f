#!/usr/bin/env python
"""The example project's manage.py: `python manage.py blendkit_migrate`, `runserver`,
`python manage.py blendkit platform add …` (the blendkit command line, this project's settings)."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tool_project.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
