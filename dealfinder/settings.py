"""DealFinder settings, configured through the environment (django-environ).

Everything a deployment changes comes from environment variables (or an optional
`.env` file next to manage.py). See README.md, "Configuration", for the list.
"""

import datetime
import os
import sys
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(str(BASE_DIR / ".env"))

# "production" requires every secret and host to be given explicitly; "development"
# (the default: demo, tests) fills in safe local values and never a shared secret.
DJANGO_ENV = env.str("DJANGO_ENV", default="development")
PRODUCTION = DJANGO_ENV == "production"
DEBUG = env.bool("DEBUG", default=False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured(
        "DEBUG must be off when DJANGO_ENV=production: its error pages show settings and code to anyone."
    )


def _require(name: str) -> str:
    value = env.str(name, default="")
    if not value:
        raise ImproperlyConfigured(f"{name} must be set when DJANGO_ENV=production.")
    return value


def _local_secret_key() -> str:
    """A random key generated once per checkout and kept in var/ (never in the repo)."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(get_random_secret_key())
        path.chmod(0o600)
    return path.read_text().strip()


if PRODUCTION:
    SECRET_KEY = _require("SECRET_KEY")
    ALLOWED_HOSTS = [h.strip() for h in _require("ALLOWED_HOSTS").split(",") if h.strip()]
    _require("DATABASE_URL")
else:
    SECRET_KEY = env.str("SECRET_KEY", default="") or _local_secret_key()
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])

CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "django.contrib.humanize",
    "leaflet",
    "rest_framework",
    "knox",
    "rest_framework_gis",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "import_export",
    "csp",
    "axes",
    "dealfinder.ops",
    "properties",
    "leads",
    "buyers",
    "sync",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "dealfinder.common.csp.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: answers a locked-out login attempt with its lockout page.
    "axes.middleware.AxesMiddleware",
]
# django-axes first: it refuses a locked-out login before the password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]

ROOT_URLCONF = "dealfinder.urls"
WSGI_APPLICATION = "dealfinder.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------
# DATABASE_URL=postgis://user:pass@host:port/name  (production, CI)
# DATABASE_URL=spatialite:////absolute/path.sqlite3 (embedded); unset -> var/dealfinder.sqlite3
DEFAULT_SPATIALITE_PATH = VAR_DIR / "dealfinder.sqlite3"
if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db_url("DATABASE_URL")}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.contrib.gis.db.backends.spatialite",
            "NAME": str(DEFAULT_SPATIALITE_PATH),
        }
    }
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
if env.str("DATABASE_TEST_NAME", default=""):
    # Lets several test runs share one PostgreSQL server without clashing.
    DATABASES["default"]["TEST"] = {"NAME": env.str("DATABASE_TEST_NAME")}
IS_POSTGIS = "postgis" in DATABASES["default"]["ENGINE"]
if IS_POSTGIS:
    # PostgreSQL's JIT spends seconds compiling the per-buyer match and map-cell queries and
    # saves far less; measured on 100k-1M leads. Off for every connection of this app.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
    # A psycopg connection pool per process (README, "Connection pool"): off unless DATABASE_POOL_MAX is set, and
    # kept off in Celery workers (each prefork child would hold its own idle pool; tasks are few and long).
    DATABASE_POOL_MAX = env.int("DATABASE_POOL_MAX", default=0)
    if DATABASE_POOL_MAX > 0 and Path(sys.argv[0]).name != "celery":
        if DATABASES["default"]["CONN_MAX_AGE"]:
            raise ImproperlyConfigured("Set CONN_MAX_AGE=0 with DATABASE_POOL_MAX: the pool keeps the connections.")
        DATABASES["default"]["OPTIONS"]["pool"] = {
            "min_size": env.int("DATABASE_POOL_MIN", default=min(2, DATABASE_POOL_MAX)),
            "max_size": DATABASE_POOL_MAX,
            "timeout": env.float("DATABASE_POOL_TIMEOUT", default=10.0),
        }
else:
    # SQLite under concurrent admin use: WAL (readers and the one writer do not block each other), a busy timeout
    # (a writer waits for the other instead of failing), and transactions that take the write lock when they begin:
    # a deferred one that reads and then writes fails at once with "database is locked", whatever the timeout.
    _sqlite = DATABASES["default"].setdefault("OPTIONS", {})
    _sqlite.setdefault("timeout", env.int("SQLITE_BUSY_TIMEOUT_SECONDS", default=30))
    _sqlite.setdefault("transaction_mode", "IMMEDIATE")
    _sqlite.setdefault("init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL")
# Matching on PostgreSQL splits the buyers across this many connections (threads of the matching process).
MATCH_CONNECTIONS = env.int("MATCH_CONNECTIONS", default=os.cpu_count() or 1)
SPATIALITE_LIBRARY_PATH = env.str("SPATIALITE_LIBRARY_PATH", default="mod_spatialite")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="America/New_York")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = env.str("MEDIA_ROOT", default=str(VAR_DIR / "media"))
MEDIA_URL = "media/"

LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "/"

# --- Security (production hardening is switched on by DJANGO_ENV=production) ----------
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (and strips it from clients).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=PRODUCTION)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = PRODUCTION
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=PRODUCTION)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=PRODUCTION)
# The load balancer's probe speaks plain HTTP to the container.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# Request bodies read into memory (forms, JSON); file uploads stream to disk past this.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=5 * 1024 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10000

# Failed logins (django-axes, recorded in the database so every web process shares them): after
# LOGIN_FAILURES_PER_USER failures of one (client address, username), or LOGIN_FAILURES_PER_IP of one address
# whatever the usernames, the login answers 429 without checking the password until
# LOGIN_FAILURE_WINDOW_SECONDS have passed since the last failure. A success clears the pair.
LOGIN_FAILURES_PER_USER = env.int("LOGIN_FAILURES_PER_USER", default=5)
LOGIN_FAILURES_PER_IP = env.int("LOGIN_FAILURES_PER_IP", default=20)
LOGIN_FAILURE_WINDOW_SECONDS = env.int("LOGIN_FAILURE_WINDOW_SECONDS", default=15 * 60)
AXES_HANDLER = (
    "dealfinder.common.login_lockout.LoginLockoutHandler"  # axes' database handler plus the per-address limit
)
AXES_FAILURE_LIMIT = LOGIN_FAILURES_PER_USER
AXES_LOCKOUT_PARAMETERS = [["ip_address", "username"]]
AXES_COOLOFF_TIME = datetime.timedelta(seconds=LOGIN_FAILURE_WINDOW_SECONDS)
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # a lockout ends on time, however often it is retried
AXES_CLIENT_IP_CALLABLE = "dealfinder.common.client_ip.client_ip"  # honours TRUSTED_PROXY_COUNT
AXES_USERNAME_CALLABLE = "dealfinder.common.login_lockout.login_username"  # "Broker " counts as "broker"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False  # no start-up banner; lockouts are still logged
# Masked in the attempt's stored form data and in logs (passwords always are).
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "csrfmiddlewaretoken"]
# How many reverse proxies in front of the app append to X-Forwarded-For (0: use REMOTE_ADDR).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# Cache (the API throttles): Redis in production (CACHE_URL, else the broker's Redis server, next database
# number), and production refuses to start without it; per-process memory in development and tests unless
# CACHE_URL is given.


def _next_redis_db(url: str) -> str:
    """The same Redis server, the database after the broker's: the cache never shares the broker's keys."""
    base, _, db = url.rstrip("/").rpartition("/")
    if "://" not in base or not db.isdigit():  # no database number in the URL: the broker uses 0
        return f"{url.rstrip('/')}/1"
    return f"{base}/{(int(db) + 1) % 16}"


_broker = env.str("CELERY_BROKER_URL", default="")
_cache_url = env.str("CACHE_URL", default="") or (
    _next_redis_db(_broker) if PRODUCTION and _broker.startswith(("redis://", "rediss://")) else ""
)
if _cache_url.startswith(("redis://", "rediss://")):
    CACHES = {
        "default": {
            # A Redis outage must not take the web app down with it: the cache fails open.
            "BACKEND": "dealfinder.common.cache.FailOpenRedisCache",
            "LOCATION": _cache_url,
            "KEY_PREFIX": "dealfinder",
            "OPTIONS": {"socket_timeout": 1, "socket_connect_timeout": 1},
        }
    }
elif _cache_url:
    CACHES = {"default": env.cache_url_config(_cache_url)}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "dealfinder"}}
if PRODUCTION and not _cache_url.startswith(("redis://", "rediss://")):
    raise ImproperlyConfigured(
        "DJANGO_ENV=production needs a shared Redis cache for the API throttles (per-process memory would give "
        "each web process its own counts): set CACHE_URL=redis://host:6379/1, or CELERY_BROKER_URL to a Redis "
        "server (the cache then uses its next database)."
    )

# Ingestion input limits (see README "Security"). Private, loopback and link-local source
# addresses are refused in production (SSRF) unless INGEST_ALLOW_PRIVATE_URLS=true.
INGEST_ALLOW_PRIVATE_URLS = env.bool("INGEST_ALLOW_PRIVATE_URLS", default=not PRODUCTION)
INGEST_UPLOAD_MAX_BYTES = env.int("INGEST_UPLOAD_MAX_BYTES", default=50 * 1024 * 1024)
INGEST_UPLOAD_MAX_ROWS = env.int("INGEST_UPLOAD_MAX_ROWS", default=1_000_000)
BUYER_IMPORT_MAX_BYTES = env.int("BUYER_IMPORT_MAX_BYTES", default=5 * 1024 * 1024)
# JSON from outside (API bodies, webhooks, admin JSON fields) nested deeper than this is refused with a 400.
JSON_MAX_DEPTH = env.int("JSON_MAX_DEPTH", default=32)
# A buyer's drawn target area: at most this many vertices, and no wider or taller than this many degrees
# (a county-sized buy box spans under 1; matching files leads by ~500 m cells under the box).
BUYBOX_MAX_VERTICES = env.int("BUYBOX_MAX_VERTICES", default=2000)
BUYBOX_MAX_SPAN_DEGREES = env.float("BUYBOX_MAX_SPAN_DEGREES", default=5.0)

# Runs (pipeline, ingest) stamp a heartbeat every RUN_HEARTBEAT_SECONDS from the process doing the work; a running run
# without one for RUN_STALE_AFTER_SECONDS is failed (its worker was killed or lost) and no longer blocks the next.
RUN_HEARTBEAT_SECONDS = env.float("RUN_HEARTBEAT_SECONDS", default=30)
RUN_STALE_AFTER_SECONDS = env.float("RUN_STALE_AFTER_SECONDS", default=180)
if RUN_STALE_AFTER_SECONDS < 3 * RUN_HEARTBEAT_SECONDS:
    raise ImproperlyConfigured("RUN_STALE_AFTER_SECONDS must be at least 3 x RUN_HEARTBEAT_SECONDS.")

# /healthz: a nightly pipeline without a success for this long is reported as "stale".
HEALTHZ_PIPELINE_MAX_AGE_HOURS = env.float("HEALTHZ_PIPELINE_MAX_AGE_HOURS", default=26)

# --- Celery -------------------------------------------------------------------------
# No broker configured -> tasks run eagerly, in process (the demo). With a broker
# (docker-compose, `make services`, tests) they go through Redis to a worker.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
# Runs record their outcome in the database (PipelineRun, IngestionRun, SyncLog), so tasks store no results,
# and sending one never waits on the result store. The exception is the parallel ingest: a chord, whose
# header tasks (pipeline_ingest_source) keep theirs in the broker's Redis for the chord to collect.
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL)
CELERY_TASK_IGNORE_RESULT = True
# The queue tasks are sent to (and what a worker without -Q consumes): several deployments, benchmark runs or
# test sessions can share one Redis without taking each other's tasks.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_RESULT_EXPIRES = 24 * 60 * 60
# With Redis down, publishing fails within a few seconds (a clear error) instead of hanging the request:
# short connection timeouts and two quick retries for the broker and the result store alike.
_QUICK_RETRIES = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = _QUICK_RETRIES
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"retry_policy": _QUICK_RETRIES}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 2
CELERY_REDIS_SOCKET_TIMEOUT = 5
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# --- REST API -----------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "dealfinder.ops.api_tokens.TokenAuthentication",
        "dealfinder.ops.api_tokens.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # JSON nested deeper than JSON_MAX_DEPTH gets 400 (dealfinder/common/json_limits.py), not a RecursionError 500.
    "DEFAULT_PARSER_CLASSES": [
        "dealfinder.common.json_limits.LimitedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "user": env.str("API_THROTTLE_USER", default="600/minute"),
        "commands": env.str("API_THROTTLE_COMMANDS", default="30/minute"),
    },
}
# API tokens (django-rest-knox): only a SHA-512 digest is stored; the token is shown once, when issued
# (`manage.py create_api_token`). No expiry unless one is given; the prefix lets secret scanners spot a leak.
KNOX_TOKEN_MODEL = "dealfinder.ApiToken"  # noqa: S105 (a model name, not a secret)
REST_KNOX = {"TOKEN_TTL": None, "TOKEN_PREFIX": "dfapi_", "AUTO_REFRESH": False}
SPECTACULAR_SETTINGS = {
    "TITLE": "DealFinder API",
    "DESCRIPTION": "Leads, properties, cash buyers and matches for real-estate wholesalers. Authenticate with "
    "`Authorization: Token <token>` (or `Bearer <token>`); an administrator issues tokens with "
    "`python manage.py create_api_token USERNAME [--expires DAYS]`. Fields marked 'Left out unless the caller "
    "may view it' appear only for roles with that permission.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and Redoc served from our static files (drf-spectacular-sidecar), not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "dealfinder.common.permissions.schema_optional_permitted_fields",
    ],
    "ENUM_NAME_OVERRIDES": {
        "LeadStatusEnum": "leads.models.Lead.Status",
        "ListingStatusEnum": "properties.models.Listing.Status",
        "RunStatusEnum": "properties.models.IngestionRun.Status",
        "PropertyTypeEnum": "properties.models.PropertyType",
    },
}

# django-import-export in the admin: importing needs the model's "add", exporting its "view" permission
# (by default any staff user could download every buyer's phone and email).
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "add"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"

# --- Maps ---------------------------------------------------------------------------
LEAFLET_CONFIG = {
    "DEFAULT_CENTER": (
        env.float("MAP_CENTER_LAT", default=28.5384),
        env.float("MAP_CENTER_LON", default=-81.3789),
    ),
    "DEFAULT_ZOOM": env.int("MAP_DEFAULT_ZOOM", default=10),
    "MIN_ZOOM": 3,
    "MAX_ZOOM": 19,
    "RESET_VIEW": False,
    "TILES": [
        (
            "OpenStreetMap",
            env.str("MAP_TILES_URL", default="https://tile.openstreetmap.org/{z}/{x}/{y}.png"),
            {"attribution": "&copy; OpenStreetMap contributors", "maxZoom": 19},
        )
    ],
}

# --- Content-Security-Policy (django-csp 4; dealfinder.common.csp.CSPMiddleware) -------------
# No inline script or style anywhere: data goes to static JS through json_script / data-*;
# third-party inline scripts (django-leaflet's map loader) carry the per-request nonce.
# Map tiles come from the tile server's origin (LEAFLET_CONFIG TILES).
from csp.constants import NONCE, NONE, SELF  # noqa: E402


def _origin(url: str) -> str:
    """scheme://host[:port] of a tile URL template; a {s} subdomain becomes a wildcard."""
    scheme, _, rest = url.partition("://")
    host = rest.split("/", 1)[0]
    host = host.replace("{s}.", "*.") if host.startswith("{s}.") else host
    return f"{scheme}://{host}" if scheme in ("http", "https") else ""


MAP_TILE_ORIGINS = sorted({o for o in (_origin(t[1]) for t in LEAFLET_CONFIG["TILES"]) if o})
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:", *MAP_TILE_ORIGINS],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
if env.str("CSP_REPORT_URI", default=""):  # where browsers report violations (optional)
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["report-uri"] = [env.str("CSP_REPORT_URI")]
# The API docs pages (Swagger UI, Redoc; local files from drf-spectacular-sidecar) carry a <style>
# block; Redoc injects its styles, links Google Fonts and its "powered by" logo and runs its search
# in a blob: worker. Allowed on those two pages only.
API_DOCS_CSP_UPDATE = {
    "style-src": ["'unsafe-inline'", "https://fonts.googleapis.com"],
    "font-src": ["https://fonts.gstatic.com"],
    "img-src": ["https://cdn.redoc.ly"],
    "worker-src": ["blob:"],
}

# --- Outside systems (each off until configured) ---------------------------------------
HTTP_TIMEOUT_SECONDS = env.float("HTTP_TIMEOUT_SECONDS", default=30.0)
SOCRATA_APP_TOKEN = env.str("SOCRATA_APP_TOKEN", default="")
# Incremental sources (ArcGIS editor tracking, Socrata incremental_field) are read in full this often, to see deletions.
INGEST_FULL_READ_DAYS = env.int("INGEST_FULL_READ_DAYS", default=7)
# A sales source kept in several tables (properties.ingest.joined) holds its parties and legals in memory while it
# joins them: more rows than this fail the run with a clear error (narrow the tables' "where") instead of
# exhausting the worker's memory.
INGEST_JOIN_MAX_ROWS = env.int("INGEST_JOIN_MAX_ROWS", default=500_000)
# Ingest maps, places and prepares the next batch's new records in a helper process while it writes this one (two
# cores busy; properties.ingest.loader) when the first page holds at least INGEST_PREPARE_MIN_PAGE records: a small
# source does not pay for starting a process. Off by default: on this 2-core box with one core taken by another
# PostgreSQL job, the helper took the CPU the database's writes needed (30k parcels: 15.3 s on, 13.5-14.6 s off).
INGEST_PREPARE_PROCESS = env.bool("INGEST_PREPARE_PROCESS", default=False)
INGEST_PREPARE_MIN_PAGE = env.int("INGEST_PREPARE_MIN_PAGE", default=1000)
GEOCODER_ENABLED = env.bool("GEOCODER_ENABLED", default=False)
GEOCODER_URL = env.str(
    "GEOCODER_URL",
    default="https://geocoding.geo.census.gov/geocoder/locations/addressbatch",
)
GEOCODER_BENCHMARK = env.str("GEOCODER_BENCHMARK", default="Public_AR_Current")

SLACK_WEBHOOK_URL = env.str("SLACK_WEBHOOK_URL", default="")
ALERT_EMAIL_TO = env.list("ALERT_EMAIL_TO", default=[])
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="dealfinder@localhost")
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

GHL_API_BASE_URL = env.str("GHL_API_BASE_URL", default="https://services.leadconnectorhq.com")
GHL_API_TOKEN = env.str("GHL_API_TOKEN", default="")
GHL_LOCATION_ID = env.str("GHL_LOCATION_ID", default="")
GHL_PIPELINE_ID = env.str("GHL_PIPELINE_ID", default="")
GHL_PIPELINE_STAGE_ID = env.str("GHL_PIPELINE_STAGE_ID", default="")
# The stage per lead status ("contacted=<stage id>,dead=<stage id>,..."); others: GHL_PIPELINE_STAGE_ID.
GHL_PIPELINE_STAGES = env.dict("GHL_PIPELINE_STAGES", default={})
GHL_BUYER_TAG = env.str("GHL_BUYER_TAG", default="cash-buyer")
GHL_WORKFLOW_ID = env.str("GHL_WORKFLOW_ID", default="")
GHL_WEBHOOK_PUBLIC_KEY = env.str("GHL_WEBHOOK_PUBLIC_KEY", default="")
# The legacy x-wh-signature (RSA-SHA256) key; empty: the one GoHighLevel publishes (sync.webhooks).
GHL_WEBHOOK_RSA_PUBLIC_KEY = env.str("GHL_WEBHOOK_RSA_PUBLIC_KEY", default="")

# Direct mail through Lob (issue 25): a test_ key prints and mails nothing. Unit costs are your plan's prices.
LOB_API_KEY = env.str("LOB_API_KEY", default="")
LOB_API_BASE_URL = env.str("LOB_API_BASE_URL", default="https://api.lob.com/v1")
LOB_WEBHOOK_SECRET = env.str("LOB_WEBHOOK_SECRET", default="")
MAIL_UNIT_COSTS = env.str("MAIL_UNIT_COSTS", default="")
MAIL_VERIFICATION_DAYS = env.int("MAIL_VERIFICATION_DAYS", default=90)
# Skip tracing (issue 25): BatchData's property skip trace; a trace of an owner stands SKIPTRACE_WINDOW_DAYS.
SKIPTRACE_PROVIDER = env.str("SKIPTRACE_PROVIDER", default="batchdata")
BATCHDATA_API_TOKEN = env.str("BATCHDATA_API_TOKEN", default="")
BATCHDATA_API_BASE_URL = env.str("BATCHDATA_API_BASE_URL", default="https://api.batchdata.com")
SKIPTRACE_COST_PER_HIT = env.str("SKIPTRACE_COST_PER_HIT", default="")
SKIPTRACE_WINDOW_DAYS = env.int("SKIPTRACE_WINDOW_DAYS", default=90)
# Rejected webhook deliveries (bad signature, stale, not JSON): their first bytes are kept this many days; a client
# address with more than WEBHOOK_REJECTIONS_PER_IP of them in WEBHOOK_REJECTION_WINDOW_SECONDS gets 429 for a while.
WEBHOOK_RETENTION_DAYS = env.int("WEBHOOK_RETENTION_DAYS", default=30)
WEBHOOK_REJECTIONS_PER_IP = env.int("WEBHOOK_REJECTIONS_PER_IP", default=30)
WEBHOOK_REJECTION_WINDOW_SECONDS = env.int("WEBHOOK_REJECTION_WINDOW_SECONDS", default=600)
GHL_CONFLICT_STRATEGY = env.str("GHL_CONFLICT_STRATEGY", default="newest_wins")
# GoHighLevel pacing (sync.pacing): requests kept back from the 200,000 a day for webhooks' follow-ups and brokers'
# own use; requests left unused in each 10 s interval; the longest wait before a run stops (partial) and resumes
# next run. The pacing state is shared in Redis (the cache's server) by every process of the location.
GHL_DAILY_RESERVE = env.int("GHL_DAILY_RESERVE", default=10_000)
GHL_PACING_HEADROOM = env.int("GHL_PACING_HEADROOM", default=2)
GHL_PACING_MAX_WAIT = env.float("GHL_PACING_MAX_WAIT", default=120.0)
GHL_PACING_REDIS_URL = env.str(
    "GHL_PACING_REDIS_URL", default=_cache_url if _cache_url.startswith(("redis://", "rediss://")) else ""
)
# Read-back after a push: the share of pushed contacts read back and compared field by field (0..1; 1 = all).
GHL_READBACK_SAMPLE = env.float("GHL_READBACK_SAMPLE", default=0.05)
# Reconcile: how far before the last reconcile's high-water mark the next one reads again (clock skew, late writes).
GHL_RECONCILE_OVERLAP_SECONDS = env.int("GHL_RECONCILE_OVERLAP_SECONDS", default=300)
# The compliance gate (sync.compliance): SMS only to contacts who opted in; the channels a workflow enrolment uses.
COMPLIANCE_SMS_REQUIRES_OPT_IN = env.bool("COMPLIANCE_SMS_REQUIRES_OPT_IN", default=True)
GHL_WORKFLOW_CHANNELS = env.list("GHL_WORKFLOW_CHANNELS", default=["sms", "email"])

# The county the data-quality checks expect points in: min_lon,min_lat,max_lon,max_lat.
COUNTY_EXTENT = tuple(env.list("COUNTY_EXTENT", cast=float, default=[-81.66, 28.34, -80.86, 28.79]))

# Logs: LOG_FORMAT=json (the production default) writes one JSON object per line; every record
# carries the ids of the run it belongs to (pipeline_run_id, ingestion_run_id, sync_run_id, ...)
# set by dealfinder.common.logging.log_context in the run services.
LOG_FORMAT = env.str("LOG_FORMAT", default="json" if PRODUCTION else "text")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured("LOG_FORMAT must be json or text.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "run_context": {"()": "dealfinder.common.logging.RunContextFilter"},
        "redact_secrets": {"()": "dealfinder.common.logging.RedactSecretsFilter"},
    },
    "formatters": {
        "text": {"()": "dealfinder.common.logging.TextFormatter"},
        "json": {"()": "dealfinder.common.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["run_context", "redact_secrets"],
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
# Workers log through the same handler and format instead of Celery's own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Debian 12 ships GDAL 3.6; the file/network-access guard needs 3.9. DealFinder only
# hands GDAL spatial references from sources an administrator configured.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]
