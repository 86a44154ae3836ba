#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # After `make run`, commands run with the instance's settings (DEBUG=true …) without
    # retyping them: config/instance.py.
    from config.instance import instance_env_load

    instance_env_load()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
