"""Settings, all from the environment, with defaults that run the demo on SQLite."""

from __future__ import annotations

import datetime as dt
import os
import string
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("HAOPING_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)  # the SQLite database and huey's queue live here


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DEBUG", False)
# The demo runs with no environment at all; production sets SECRET_KEY and HAOPING_MASTER_KEY.
SECRET_KEY = os.environ.get("SECRET_KEY", "insecure-demo-secret-key-change-me-in-production")
# One master key; the personal-data cipher key, the lookup-index key, the link-signing key and
# the evaluation-chain key are derived from it (haoping.lib.keys).
HAOPING_MASTER_KEY = os.environ.get("HAOPING_MASTER_KEY", "")
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]
# Absolute base for links and QR codes handed to applicants (rating links, receipts).
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "huey.contrib.djhuey",
    "django_ratelimit",
    # Swagger UI for /api/docs from our own static files, not a CDN (the CSP allows only 'self').
    "ninja",
    "axes",
    "csp",
    # For its Chinese messages (PasswordCharacterValidator).
    "django_password_validators",
    "haoping.directory",
    "haoping.records",
    "haoping.evaluations",
    "haoping.audit",
    "haoping.accounts",
    "haoping.workdays",
    "haoping.rectification",
    "haoping.indicators",
    "haoping.reports",
    "haoping.ops",
    "haoping.exchange",
    "haoping.pads",
    "haoping.channels",
    "haoping.disclosure",
    "haoping.feedback",
    "haoping.demo",
]

MIDDLEWARE = [
    "haoping.middleware.HeadWithoutBodyMiddleware",
    "haoping.middleware.ApiErrorShapeMiddleware",
    "haoping.middleware.HtmlErrorPageMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "haoping.middleware.ControlCharactersRefusedMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "haoping.accounts.middleware.SessionIdleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "haoping.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "haoping" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "haoping.accessibility.large_text",
            ],
        },
    },
]

WSGI_APPLICATION = "haoping.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'haoping.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "600")),
    )
}
DB_POOL_SIZE = int(os.environ.get("DB_POOL_SIZE", "8"))
if DB_POOL_SIZE == 1:
    # The rating writer keeps one connection for itself; requests, and the writer's case threads
    # storing bad ratings, borrow the others.
    raise ImproperlyConfigured("DB_POOL_SIZE must be 0 (no pool) or at least 2")
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and DB_POOL_SIZE > 0:
    # Each process borrows connections from a pool of its own and gives them back after each request.
    # Under ASGI, Django runs every request's view on a thread of its own: persistent connections
    # would stay behind with those threads until PostgreSQL refuses new clients.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": min(2, DB_POOL_SIZE),
        "max_size": DB_POOL_SIZE,
        "timeout": 10,
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool("DB_PREPARED_STATEMENTS", True):
    # PostgreSQL plans the rating path's queries once per connection instead of on every request
    # (the slot lookup drops from ~2.6 to ~0.6 ms). Turn off behind a transaction-pooling PgBouncer.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("server_side_binding", True)
    DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", int(os.environ.get("DB_PREPARE_THRESHOLD", "2")))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the demo server read while the sweep writes.
    DATABASES["default"].setdefault("OPTIONS", {})["init_command"] = "PRAGMA journal_mode=WAL;"
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
    # A write waits this long (seconds) for the one write lock before "database is locked". No
    # transaction of the app holds it for more than a fraction of a second (the rollup updates,
    # sweeps, report builds and imports commit in small batches); this covers a burst of them.
    DATABASES["default"]["OPTIONS"].setdefault("timeout", 20)
    # Tests on SQLite use a file beside the database, not Django's shared in-memory one, so that
    # threads meet the same write lock as the demo's server.
    _db_file = Path(DATABASES["default"]["NAME"])
    DATABASES["default"].setdefault("TEST", {}).setdefault("NAME", str(_db_file.with_name(f"test_{_db_file.name}")))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Console and admin passwords (等保 2.0 level 3: identification with complexity): not like the
# user's name, long enough, not a common password, not all digits; letters, digits and symbols.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": max(8, int(os.environ.get("HAOPING_PASSWORD_MIN_LENGTH", "8")))},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {
        "NAME": "django_password_validators.password_character_requirements.password_validation."
        "PasswordCharacterValidator",
        "OPTIONS": {
            "min_length_digit": 1,
            "min_length_alpha": 1,
            "min_length_special": 1,
            "min_length_lower": 0,
            "min_length_upper": 0,
            "special_characters": string.punctuation,
        },
    },
]
# django-axes goes first: it refuses a locked-out account or address before any password check.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# Vendored front-end files (ECharts); no build step.
STATICFILES_DIRS = [BASE_DIR / "haoping" / "static"]

# Uploaded evidence. Never served as static files: a view checks access first.
MEDIA_ROOT = Path(os.environ.get("HAOPING_MEDIA_DIR", VAR_DIR / "media"))
MEDIA_URL = "/media-not-served/"
# Evidence files, a few per form (haoping.rectification.services): the largest file of each kind,
# and of all the files of one step together (they are held in memory until the step commits).
HAOPING_EVIDENCE_MAX_BYTES = {
    "image": int(os.environ.get("HAOPING_EVIDENCE_MAX_IMAGE_MB", "5")) * 2**20,
    "document": int(os.environ.get("HAOPING_EVIDENCE_MAX_DOCUMENT_MB", "5")) * 2**20,
    # A call recording: about an hour of a phone's AMR or AAC at 32 kbit/s.
    "audio": int(os.environ.get("HAOPING_EVIDENCE_MAX_AUDIO_MB", "20")) * 2**20,
    # A short clip from a hall camera (监控) or a phone: a minute or two.
    "video": int(os.environ.get("HAOPING_EVIDENCE_MAX_VIDEO_MB", "50")) * 2**20,
}
HAOPING_EVIDENCE_MAX_TOTAL_BYTES = int(os.environ.get("HAOPING_EVIDENCE_MAX_TOTAL_MB", "60")) * 2**20
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FILES = 10
# Where messages to evaluators go (an SMS gateway in production); the default keeps them in the outbox.
HAOPING_MESSAGE_BACKEND = os.environ.get("HAOPING_MESSAGE_BACKEND", "haoping.rectification.messaging.DatabaseBackend")
# SMS texts to evaluators (haoping.rectification.sms): the signature between 【】 (2 to 12
# characters; a region policy may set its own; blank: 政务服务好差评), and the most SMS parts one
# text may take (70 characters for one, 67 a part beyond that).
HAOPING_SMS_SIGNATURE = os.environ.get("HAOPING_SMS_SIGNATURE", "")
HAOPING_SMS_MAX_SEGMENTS = int(os.environ.get("HAOPING_SMS_MAX_SEGMENTS", "2"))
# The rating fast path's writer waits up to this long for more ratings to store in one batch.
HAOPING_RATING_GATHER_MS = float(os.environ.get("HAOPING_RATING_GATHER_MS", "2"))
# A window pad asks for a rating of a service registered at its window within this many minutes.
HAOPING_PAD_SHOW_MINUTES = int(os.environ.get("HAOPING_PAD_SHOW_MINUTES", "10"))
# How a pad learns of a service at its window (haoping.pads.push): auto, redis, postgresql or poll.
HAOPING_PAD_PUSH = os.environ.get("HAOPING_PAD_PUSH", "auto")
# After each committed rating or case step, enqueue a rollup update (haoping.indicators).
HAOPING_ROLLUPS_ENQUEUE = env_bool("HAOPING_ROLLUPS_ENQUEUE", True)
# R20: rankings leave out objects with fewer ratings than this in the period.
HAOPING_RANKING_MIN_SAMPLE = int(os.environ.get("HAOPING_RANKING_MIN_SAMPLE", "30"))
# The evaluation chain's signed checkpoints are appended here, outside the database, so that
# deleting rows and re-signing in the database still shows (haoping.evaluations.chain). Put it on
# storage the database's users cannot rewrite (another host, or `chattr +a`).
HAOPING_CHAIN_ANCHOR_LOG = Path(os.environ.get("HAOPING_CHAIN_ANCHOR_LOG", VAR_DIR / "chain-anchors.log"))
LOGIN_URL = "/console/login/"
LOGIN_REDIRECT_URL = "/console/"

# No legitimate request body comes near this; larger ones get a 400 before any parsing. Served by
# haoping.asgi, a larger body is read only from a signed-in console user (evidence) or with an API key.
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024
# The request gate of haoping.asgi (haoping.gate): seconds a request body may take to arrive (plus its
# size at 32 kB/s); and how many requests with a body, without an API key, one client address may
# have open at once in each server process (0: no cap; behind a proxy, cap there instead).
HAOPING_BODY_TIMEOUT = float(os.environ.get("HAOPING_BODY_TIMEOUT", "10"))
HAOPING_MAX_PENDING_PER_CLIENT = int(os.environ.get("HAOPING_MAX_PENDING_PER_CLIENT", "32"))

# The public pages (rating, QR images, receipts, revisit) answer this many requests per client
# address and period (django-ratelimit: "60/m", "1000/h"), then a 429 page.
HAOPING_PUBLIC_RATE = os.environ.get("HAOPING_PUBLIC_RATE", "60/m")
# 综合点评 (R18): comments one address may post through the web form per period, and how long the
# form must have been open before it is posted (a person reads it; a script does not wait).
HAOPING_COMMENT_RATE = os.environ.get("HAOPING_COMMENT_RATE", "5/h")
HAOPING_COMMENT_MIN_SECONDS = float(os.environ.get("HAOPING_COMMENT_MIN_SECONDS", "3"))
# Outgoing e-mail (answers to comments whose sender left an address), through an SMTP server.
EMAIL_HOST = os.environ.get("HAOPING_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("HAOPING_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("HAOPING_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("HAOPING_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("HAOPING_EMAIL_TLS", "0") == "1"
EMAIL_USE_SSL = os.environ.get("HAOPING_EMAIL_SSL", "0") == "1"
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = os.environ.get("HAOPING_EMAIL_FROM", "webmaster@localhost")
# The e-mail inbox that receives comments, read over IMAP by `manage.py fetch_comment_mail`
# (empty host: no inbox); comments from it are routed within the region of this code.
HAOPING_COMMENT_IMAP_HOST = os.environ.get("HAOPING_COMMENT_IMAP_HOST", "")
HAOPING_COMMENT_IMAP_PORT = int(os.environ.get("HAOPING_COMMENT_IMAP_PORT", "993"))
HAOPING_COMMENT_IMAP_SSL = os.environ.get("HAOPING_COMMENT_IMAP_SSL", "1") == "1"
HAOPING_COMMENT_IMAP_USER = os.environ.get("HAOPING_COMMENT_IMAP_USER", "")
HAOPING_COMMENT_IMAP_PASSWORD = os.environ.get("HAOPING_COMMENT_IMAP_PASSWORD", "")
HAOPING_COMMENT_IMAP_REGION = os.environ.get("HAOPING_COMMENT_IMAP_REGION", "")
if os.environ.get("RATELIMIT_IP_META_KEY"):
    # Behind a proxy: the META key carrying the client's address, e.g. HTTP_X_REAL_IP.
    RATELIMIT_IP_META_KEY = os.environ["RATELIMIT_IP_META_KEY"]
# A public form (rating, revisit) can be posted this many seconds after the page was loaded
# (haoping.formtokens); later, it is shown again with what was entered and a fresh token.
HAOPING_FORM_TOKEN_MAX_AGE = int(os.environ.get("HAOPING_FORM_TOKEN_MAX_AGE", str(6 * 60 * 60)))
CSRF_FAILURE_VIEW = "haoping.error_pages.csrf_failure"

# The rate limits' counts. One process (the demo) may keep them in memory; several workers share
# them in Redis.
if os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
            "KEY_PREFIX": "haoping",
        }
    }
    # Django's own Redis backend increments atomically; django-ratelimit only lists django-redis.
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"]
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "haoping"}}
    # Per-process counts: right for one process, lenient (each worker counts alone) for several.
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]

# Rating pages are public; keep cookies tight.
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
# A console or admin session ends after this many seconds without a request (等保: idle timeout).
# SessionIdleMiddleware pushes the expiry forward at most once a minute, not on every request,
# so that browsing the console does not write to the database each time.
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", "1800"))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
HAOPING_SESSION_REFRESH_SECONDS = min(60, SESSION_COOKIE_AGE // 10)

# Served over HTTPS (directly or behind a proxy that terminates TLS): cookies only over HTTPS,
# HSTS, and plain HTTP redirected.
HAOPING_HTTPS = env_bool("HAOPING_HTTPS", False)
SESSION_COOKIE_SECURE = HAOPING_HTTPS
CSRF_COOKIE_SECURE = HAOPING_HTTPS
SECURE_SSL_REDIRECT = env_bool("HAOPING_SSL_REDIRECT", HAOPING_HTTPS)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000")) if HAOPING_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
# Behind a proxy: the header it sets to say the original request was HTTPS, e.g.
# HAOPING_PROXY_SSL_HEADER=X-Forwarded-Proto. Set it only if the proxy always overwrites that header.
if os.environ.get("HAOPING_PROXY_SSL_HEADER"):
    SECURE_PROXY_SSL_HEADER = (
        "HTTP_" + os.environ["HAOPING_PROXY_SSL_HEADER"].strip().upper().replace("-", "_"),
        "https",
    )
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"  # rating links carry their token in the path

# Content-Security-Policy (django-csp): scripts only from our own static files (ECharts, the
# pages' own JS, Swagger UI) and never inline.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        # 'unsafe-inline' for styles only, which cannot run code: ECharts builds its tooltips as
        # HTML with style attributes, Swagger UI writes style attributes, and the pages keep their
        # small stylesheets in <style> blocks.
        "style-src": ["'self'", "'unsafe-inline'"],
        # data: for the icons Swagger UI's stylesheet embeds.
        "img-src": ["'self'", "data:"],
        # Call recordings and video clips play from the evidence view.
        "media-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
# Features no page uses are switched off for the page and anything it might embed.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
}

# Console and admin sign-in (django-axes): after HAOPING_LOGIN_FAILURE_LIMIT failed attempts for
# one user name, or HAOPING_LOGIN_ADDRESS_FAILURE_LIMIT from one address over all user names
# (haoping.accounts.signin), further attempts are refused for HAOPING_LOGIN_LOCKOUT_MINUTES.
# Every attempt, failed or not, is kept in axes' tables (admin: 访问尝试 / 访问失败 / 访问日志).
AXES_FAILURE_LIMIT = int(os.environ.get("HAOPING_LOGIN_FAILURE_LIMIT", "5"))
HAOPING_LOGIN_ADDRESS_FAILURE_LIMIT = int(os.environ.get("HAOPING_LOGIN_ADDRESS_FAILURE_LIMIT", "30"))
AXES_COOLOFF_TIME = dt.timedelta(minutes=float(os.environ.get("HAOPING_LOGIN_LOCKOUT_MINUTES", "30")))
# In this order: SignInLocks reads the counts per user name, then per address.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_HANDLER = "haoping.accounts.signin.SignInLocks"
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_LOCKOUT_CALLABLE = "haoping.accounts.views.locked_out"
AXES_VERBOSE = False  # no start-up banner in every command's output
# The address is REMOTE_ADDR (django-ipware is not installed): behind a proxy, have the app server
# set it from the proxy's header.

HUEY = {
    # Both queues' locks expire (huey's own TTL on Redis; haoping.ops.queue on SQLite).
    "huey_class": "huey.RedisExpireHuey" if os.environ.get("REDIS_URL") else "haoping.ops.queue.ExpiringLockSqliteHuey",
    "name": "haoping",
    "immediate": env_bool("HUEY_IMMEDIATE", False),
    # A consumer killed mid-task leaves that task's lock behind: the next consumer clears every
    # lock when it starts (run one consumer per deployment; it runs the periodic jobs).
    "consumer": {"flush_locks": True},
}
if os.environ.get("REDIS_URL"):
    HUEY["url"] = os.environ["REDIS_URL"]
else:
    HUEY["filename"] = str(VAR_DIR / "huey.sqlite3")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # Request bodies carry personal data; never log them.
    "loggers": {
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        # WeasyPrint and fontTools report every step of a PDF at INFO.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        # django-axes reports every sign-in at INFO; its tables keep them (see AXES_* below).
        "axes": {"level": "WARNING"},
    },
}

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The rollups' covering indexes (INCLUDE) are a PostgreSQL optimisation; SQLite uses their key
    # columns, which serve the demo, so its warning about the extra columns says nothing to act on.
    # Added to whatever is silenced above.
    SILENCED_SYSTEM_CHECKS = [*globals().get("SILENCED_SYSTEM_CHECKS", []), "models.W040"]
