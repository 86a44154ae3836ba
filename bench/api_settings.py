"""Settings of the gunicorn that bench/api_intake.py starts: the project's own settings, with
DEBUG off (no query log), persistent database connections and the bench's routes, which add a
minimal create endpoint to the project's. Everything else (SECRET_KEY, DATABASE_URL …) comes
from the environment the bench gives it, as in production."""

from config.settings import *  # noqa: F403
from config.settings import DATABASES

DEBUG = False
# Persistent connections: a new PostgreSQL connection per request costs more than the request
# (NOTES.md: about 200 instead of 1,000 requests/s for a one-INSERT endpoint).
DATABASES["default"]["CONN_MAX_AGE"] = 600
ROOT_URLCONF = "bench.api_urls"
