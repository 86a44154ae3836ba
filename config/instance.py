"""The environment of an embedded instance, kept under its ``VAR_DIR`` so that a later
``manage.py`` command runs with the settings ``make run`` ran with (``DEBUG=true`` and whatever
else was set), without the person typing them again.

``make run`` writes ``VAR_DIR/instance.env`` (``python -m config.instance``): each settings
variable set in its environment, one ``NAME=value`` a line, readable by this user only (it may
hold a database password). ``manage.py`` reads it before the settings: a variable already set in
the environment wins over the file. A production machine has no such file and is not affected:
its settings come from its environment alone."""

from __future__ import annotations

import os
import sys
from pathlib import Path

FILE_NAME = "instance.env"
# Not kept: where the file is (it is found through VAR_DIR), and Django's own module variable.
NOT_KEPT = {"VAR_DIR", "DJANGO_SETTINGS_MODULE"}


def instance_env_path() -> Path:
    """Where this environment's instance keeps its file: VAR_DIR, or ./var beside manage.py."""
    base = Path(__file__).resolve().parent.parent
    var_dir = os.environ.get("VAR_DIR", "").strip() or str(base / "var")
    return Path(var_dir).resolve() / FILE_NAME


def instance_env_load() -> None:
    """Set each variable of the instance's file that the environment does not set."""
    path = instance_env_path()
    if not path.is_file():
        return
    for line in path.read_text(encoding="utf-8").splitlines():
        name, sep, value = line.partition("=")
        if sep and name.strip() and not line.lstrip().startswith("#"):
            os.environ.setdefault(name.strip(), value)


def instance_env_write() -> Path:
    """Write the settings variables set in this environment to the instance's file."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.conf import settings

    settings.INSTALLED_APPS  # noqa: B018 -- loads the settings, which read their variables
    from config.env import VARIABLES_READ

    kept = {
        name: os.environ[name]
        for name in sorted(VARIABLES_READ - NOT_KEPT)
        if name in os.environ and "\n" not in os.environ[name]
    }
    path = instance_env_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("# Written by `make run`; manage.py reads it (config/instance.py).\n")
        handle.writelines(f"{name}={value}\n" for name, value in kept.items())
    return path


if __name__ == "__main__":
    written = instance_env_write()
    sys.stdout.write(f"Instance settings kept in {written}\n")
