#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import config

    # Commands get no statement, lock or idle timeouts (config/timeouts.py); the
    # development server is a web server and keeps them.
    config.COMMAND_LINE = sys.argv[1:2] != ["runserver"]
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
