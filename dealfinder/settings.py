"""DealFinder settings, configured through the environment (django-environ).

Everything a deployment changes comes from environment variables (or an optional
`.env` file next to manage.py). See README.md, "Configuration", for the list.
"""

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
    "rest_framework.authtoken",
    "rest_framework_gis",
    "django_filters",
    "drf_spectacular",
    "django_celery_beat",
    "import_export",
    "dealfinder",
    "properties",
    "leads",
    "buyers",
    "sync",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

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
else:
    # SQLite waits for a writer instead of failing at once with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("timeout", 30)
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
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# --- Celery -------------------------------------------------------------------------
# No broker configured -> tasks run eagerly, in process (the demo). With a broker
# (docker-compose, `make services`, tests) they go through Redis to a worker.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# --- REST API -----------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "user": env.str("API_THROTTLE_USER", default="600/minute"),
        "commands": env.str("API_THROTTLE_COMMANDS", default="30/minute"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "DealFinder API",
    "DESCRIPTION": "Leads, properties, cash buyers and matches for real-estate wholesalers.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "ENUM_NAME_OVERRIDES": {
        "LeadStatusEnum": "leads.models.Lead.Status",
        "ListingStatusEnum": "properties.models.Listing.Status",
        "RunStatusEnum": "properties.models.IngestionRun.Status",
        "PropertyTypeEnum": "properties.models.PropertyType",
    },
}

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

# --- Outside systems (each off until configured) ---------------------------------------
HTTP_TIMEOUT_SECONDS = env.float("HTTP_TIMEOUT_SECONDS", default=30.0)
SOCRATA_APP_TOKEN = env.str("SOCRATA_APP_TOKEN", default="")
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
GHL_BUYER_TAG = env.str("GHL_BUYER_TAG", default="cash-buyer")
GHL_WORKFLOW_ID = env.str("GHL_WORKFLOW_ID", default="")
GHL_WEBHOOK_PUBLIC_KEY = env.str("GHL_WEBHOOK_PUBLIC_KEY", default="")
GHL_CONFLICT_STRATEGY = env.str("GHL_CONFLICT_STRATEGY", default="newest_wins")

# The county the data-quality checks expect points in: min_lon,min_lat,max_lon,max_lat.
COUNTY_EXTENT = tuple(env.list("COUNTY_EXTENT", cast=float, default=[-81.66, 28.34, -80.86, 28.79]))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Debian 12 ships GDAL 3.6; the file/network-access guard needs 3.9. DealFinder only
# hands GDAL spatial references from sources an administrator configured.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]
