"""One settings module, configured from environment variables (django-environ).

With no variables set this is the *embedded default*: a SQLite file beside the code and Celery
tasks executed in-process, so `make run` works on a bare machine. `DATABASE_URL` and
`REDIS_URL` switch to PostgreSQL and real Celery workers with no code change.
"""

from datetime import timedelta
from pathlib import Path

import environ
import plotly
from celery.schedules import crontab
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.utils.translation import gettext_lazy as _
from kombu import Queue

from cxplatform import broker

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env(
    "SECRET_KEY",
    default="embedded-default-insecure-key-change-me-" + "x" * 24 if DEBUG else environ.Env.NOTSET,
)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served from our static files (no CDN)
    "django_htmx",
    "axes",
    "csp",
    # Two-factor sign-in (docs/adr/0026): TOTP devices and one-time recovery codes.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "cxplatform",
    "journeys",
    "surveys",
    "feedback",
    "metrics",
    "actions",
    "invitations",
    "integrations",
    "privacy",
]

MIDDLEWARE = [
    "cxplatform.health.HealthCheckMiddleware",  # first: health checks come by IP, over plain HTTP
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Below WhiteNoise: static files are not documents and need no policy of their own.
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Right after authentication: a deactivated member's older sessions end before anything reads them.
    "cxplatform.team.middleware.SignOutDeactivatedMiddleware",

    # request.user.is_verified(): the session passed a second factor (django-otp).
    "django_otp.middleware.OTPMiddleware",
    # After the locale (its 400 speaks the reader's language) and before every view.
    "cxplatform.middleware.RefuseUnstorableTextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "cxplatform.middleware.CurrentOrganizationMiddleware",
    # After the organization is known: its "two-factor for everyone" rule needs it.
    "cxplatform.signin.middleware.SignInRulesMiddleware",
    "cxplatform.middleware.ReadOnlyRoleMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cxplatform.urls"
WSGI_APPLICATION = "cxplatform.wsgi.application"

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
                "cxplatform.context_processors.tenancy",
                "cxplatform.context_processors.notifications",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The embedded default lacks covering indexes and NULLS NOT DISTINCT: PostgreSQL has them, and
    # the demo on SQLite does not need them (ADR 0003).
    SILENCED_SYSTEM_CHECKS = ["models.W040", "models.W047"]
    # `make run` writes from two processes (the server and run_schedule): readers go on while one
    # writes (WAL), and a writer takes its lock when its transaction begins and waits for it, rather
    # than failing halfway with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE", "timeout": 20})
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
# A web request follows the last by seconds: checking the connection first would cost every
# request a round trip, and a connection found dead fails one request and is replaced. Workers
# idle for minutes between tasks, so they check (cxplatform/celery.py).
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=False)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 3)
# An optional read replica (a streaming standby of the primary) for dashboards and exports.
if env("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = {
        **env.db("DATABASE_REPLICA_URL"),
        "ATOMIC_REQUESTS": False,
        "CONN_MAX_AGE": DATABASES["default"]["CONN_MAX_AGE"],
        "CONN_HEALTH_CHECKS": DATABASES["default"]["CONN_HEALTH_CHECKS"],
        "OPTIONS": {"connect_timeout": 3},
        "TEST": {"MIRROR": "default"},
    }
DATABASE_ROUTERS = ["cxplatform.replica.ReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # Single sign-on (docs/adr/0026); answers nothing while SSO is not configured.
    "cxplatform.signin.sso.SingleSignOnBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = 0.25  # hours: a locked-out user may try again after 15 minutes
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
# One rule for the client's address everywhere (rate limits too): X-Forwarded-For only from TRUSTED_PROXIES,
# so behind a proxy ten failures lock out that client, not everyone coming through the proxy; an IPv6
# client is locked out as its /64.
AXES_CLIENT_IP_CALLABLE = "cxplatform.ratelimit.lockout_address"
AXES_USERNAME_CALLABLE = "cxplatform.ratelimit.login_username"

# --- Single sign-on with OpenID Connect (docs/adr/0026). SSO is on when a client id is set. The
# provider's endpoints come from <OIDC_ISSUER>/.well-known/openid-configuration, fetched on the
# first sign-in and cached (never at start-up: a provider that is down must not stop the site);
# OIDC_OP_* variables, when set, are used instead of discovery.
OIDC_ISSUER = env("OIDC_ISSUER", default="").rstrip("/")
OIDC_RP_CLIENT_ID = env("OIDC_RP_CLIENT_ID", default="")
OIDC_RP_CLIENT_SECRET = env("OIDC_RP_CLIENT_SECRET", default="")
SSO_ENABLED = bool(OIDC_RP_CLIENT_ID)
OIDC_OP_AUTHORIZATION_ENDPOINT = env("OIDC_OP_AUTHORIZATION_ENDPOINT", default="")
OIDC_OP_TOKEN_ENDPOINT = env("OIDC_OP_TOKEN_ENDPOINT", default="")
OIDC_OP_USER_ENDPOINT = env("OIDC_OP_USER_ENDPOINT", default="")
OIDC_OP_JWKS_ENDPOINT = env("OIDC_OP_JWKS_ENDPOINT", default="")
OIDC_RP_SIGN_ALGO = env("OIDC_RP_SIGN_ALGO", default="RS256")
OIDC_RP_SCOPES = "openid email profile"
OIDC_USE_PKCE = True
OIDC_TIMEOUT = env.float("OIDC_TIMEOUT", default=10.0)
# The provider's TLS certificate is checked against the system's CAs, or this CA bundle (a file
# path) for a provider with a private CA.
OIDC_VERIFY_SSL = env("OIDC_CA_BUNDLE", default="") or True
# How long the discovered endpoints are kept before they are read again.
OIDC_DISCOVERY_CACHE_SECONDS = env.int("OIDC_DISCOVERY_CACHE_SECONDS", default=3600)
OIDC_AUTHENTICATE_CLASS = "cxplatform.signin.sso.StartSignInView"
OIDC_CALLBACK_CLASS = "cxplatform.signin.sso.CallbackView"
LOGIN_REDIRECT_URL_FAILURE = "login"

# --- Two-factor sign-in: a wrong code is counted per person; this many in the window end the
# half-done sign-in (the password must be given again).
TWO_FACTOR_MAX_FAILURES = env.int("TWO_FACTOR_MAX_FAILURES", default=5)
TWO_FACTOR_FAILURE_WINDOW_SECONDS = 900
# Time between the password and the code before the half-done sign-in lapses.
TWO_FACTOR_PENDING_SECONDS = 300
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", default="CX Platform")

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "metrics:dashboard"
LOGOUT_REDIRECT_URL = "login"

# --- Internationalisation: the UI and every survey speak English, Russian and Latvian.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ru", _("Russian")), ("lv", _("Latvian"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files: htmx ships inside django-htmx, plotly.js inside the plotly package.
STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("plotly", Path(plotly.__file__).parent / "package_data"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Uploads waiting for their import job, export files and brand logos; never served as a directory
# (see cxplatform/urls.py: a logo only through its own view). Web servers and
# workers must share it (docker-compose.yml mounts one volume on both).
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
MEDIA_URL = "media/"
FILE_UPLOAD_HANDLERS = [
    "cxplatform.upload_handlers.CappedUploadHandler",  # first: no upload fills the disk
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# --- Celery: at-least-once work. With no broker, tasks run in-process (embedded default).
# The broker is Redis (REDIS_URL) or anything Celery speaks, e.g. RabbitMQ: CELERY_BROKER_URL=amqp://…
REDIS_URL = env("REDIS_URL", default="")
# Rate-limit counters (cxplatform.ratelimit): Redis when there is one, shared by every web process;
# else this process's memory. Short socket timeouts: a hung Redis fails open in a fifth of a second.
RATE_LIMIT_CACHE_URL = env("RATE_LIMIT_CACHE_URL", default=REDIS_URL)
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "ratelimit": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": RATE_LIMIT_CACHE_URL,
        "OPTIONS": {"socket_timeout": 0.2, "socket_connect_timeout": 0.2},
    } if RATE_LIMIT_CACHE_URL else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                    "LOCATION": "ratelimit", "OPTIONS": {"MAX_ENTRIES": 100_000}},
}
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="") or REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL == "memory://"
# One queue per kind of work, so a mail backlog never delays a case nor a rollup: a plain
# `celery worker` consumes them all, on Redis strictly in this order (the loop lane first: a
# burst's comment reading waits, a call-back does not); `-Q mail` (etc.) gives one kind its own
# workers, which is how RabbitMQ (no order between queues) keeps the loop ahead (docs/adr/0034).
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES = [Queue(name) for name in ("loop", "rollups", "mail", "default", "events", "webhooks",
                                                   "invitations", "imports", "exports")]
CELERY_TASK_ROUTES = {
    # Each event goes to its subscribers' lanes (events.subscribe); "events" when none is named.
    "cxplatform.tasks.deliver_event": {"queue": "events"},
    "cxplatform.tasks.redeliver_pending_events": {"queue": "default"},
    "metrics.tasks.rebuild_dirty_days": {"queue": "rollups"},
    "metrics.tasks.reconcile_recent_days": {"queue": "rollups"},
    "metrics.tasks.send_*": {"queue": "mail"},
    "feedback.tasks.send_*": {"queue": "mail"},
    "feedback.tasks.hand_on_loop_mail": {"queue": "mail"},
    "actions.tasks.send_*": {"queue": "mail"},
    "cxplatform.tasks.run_import_job": {"queue": "imports"},
    "surveys.tasks.run_import": {"queue": "imports"},
    "surveys.tasks.run_export": {"queue": "exports"},  # minutes of one worker: never ahead of an import
    "invitations.tasks.*": {"queue": "invitations"},  # a blast never holds the inbox's mail back
    "integrations.tasks.*": {"queue": "webhooks"},  # a slow receiver never holds up events or mail
}
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fixup closes the database connection around every task unless told to reuse it:
# a new PostgreSQL backend per event delivered. Workers keep it (health-checked before each task,
# cxplatform/celery.py) and renew it every 2 × this many tasks.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=500)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 1
# A broker that is down or hangs (up, but not answering) must not hold a web request for more
# than about a second: socket timeouts on the transport, one quick retry, and the outbox
# delivers later (docs/adr/0018).
CELERY_BROKER_TRANSPORT_OPTIONS = broker.transport_options(CELERY_BROKER_URL)
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.1,
    "interval_max": 0.1,
}
CELERY_BEAT_SCHEDULE = {
    "send-due-invitations": {  # triggers' delays, reminders, scheduled campaigns, lost claims
        "task": "invitations.tasks.send_due",
        "schedule": 15.0,
    },
    "start-due-campaigns": {
        "task": "invitations.tasks.start_due_campaigns",
        "schedule": 30.0,
    },
    "deliver-due-webhooks": {  # webhook retries, and calls a broker outage kept from the workers
        "task": "integrations.tasks.deliver_due_webhooks",
        "schedule": 30.0,
    },
    "prune-webhook-log": {
        "task": "integrations.tasks.prune_webhook_log",
        "schedule": crontab(hour=3, minute=15),
    },
    "redeliver-pending-events": {
        "task": "cxplatform.tasks.redeliver_pending_events",
        "schedule": 15.0,
    },
    "reconcile-metrics-nightly": {
        "task": "metrics.tasks.reconcile_recent_days",
        "schedule": crontab(hour=2, minute=30),
    },
    "check-sla": {
        "task": "feedback.tasks.check_sla",
        "schedule": 300.0,
    },
    "hand-on-loop-mail": {
        "task": "feedback.tasks.hand_on_loop_mail",
        "schedule": 300.0,
    },
    "send-queued-replies": {
        "task": "feedback.tasks.send_queued_replies",
        "schedule": 60.0,
    },
    "weekly-digest": {
        "task": "metrics.tasks.send_weekly_digests",
        "schedule": crontab(day_of_week="mon", hour=6, minute=0),
    },
    "remind-action-owners": {
        "task": "actions.tasks.send_action_reminders",
        "schedule": crontab(hour=7, minute=0),
    },
    "abandon-unfinished-answers": {
        "task": "surveys.tasks.abandon_unfinished_answers",
        "schedule": 60.0,
    },
    "rebuild-dirty-days": {  # the safety net of the debounced rebuild (a lost message)
        "task": "metrics.tasks.rebuild_dirty_days",
        "schedule": 30.0,
    },
    "prune-housekeeping": {
        "task": "cxplatform.tasks.prune_housekeeping",
        "schedule": 3600.0,
    },
    "export-housekeeping": {  # expired export files; an export whose worker was lost starts again
        "task": "surveys.tasks.export_housekeeping",
        "schedule": 600.0,
    },
    "purge-audit-log": {  # entries older than AUDIT_RETENTION_DAYS
        "task": "cxplatform.tasks.purge_audit_log",
        "schedule": crontab(hour=3, minute=15),
    },
    "apply-personal-data-retention": {  # privacy: personal data older than each organization's period
        "task": "privacy.tasks.apply_retention",
        "schedule": crontab(hour=3, minute=45),
    },
}
CELERY_TIMEZONE = "UTC"
# An event written by the previous release (no delivery rows yet) older than this gets its deliveries.
OUTBOX_REDELIVERY_AFTER_SECONDS = env.int("OUTBOX_REDELIVERY_AFTER_SECONDS", default=10)
# How long a worker's claim on a delivery lasts; past it (a killed worker), another may take it over.
OUTBOX_CLAIM_SECONDS = env.int("OUTBOX_CLAIM_SECONDS", default=60)
# A failing delivery waits 15 s, 30 s, 60 s … (at most an hour) and is dead after this many attempts.
OUTBOX_BACKOFF_SECONDS = env.int("OUTBOX_BACKOFF_SECONDS", default=15)
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=8)
# A message handed to the broker this long ago and still not taken by a worker was lost.
OUTBOX_LOST_AFTER_SECONDS = env.int("OUTBOX_LOST_AFTER_SECONDS", default=600)
# The events of one transaction travel to the workers together, at most this many per message (an
# answer's two in one; a 500-row import's in messages any free worker takes). 1 sends each alone:
# set it while workers of a release before 2026-12 still run (they take one event per message).
OUTBOX_EVENTS_PER_MESSAGE = env.int("OUTBOX_EVENTS_PER_MESSAGE", default=10)

# Outgoing webhooks (docs/adr/0027). Calls to private, loopback or link-local addresses (SSRF) are
# refused unless this is on: on by default only with DEBUG (development, tests).
WEBHOOKS_ALLOW_PRIVATE = env.bool("WEBHOOKS_ALLOW_PRIVATE", default=DEBUG)
WEBHOOKS_CONNECT_TIMEOUT_SECONDS = env.float("WEBHOOKS_CONNECT_TIMEOUT_SECONDS", default=3.0)
WEBHOOKS_TIMEOUT_SECONDS = env.float("WEBHOOKS_TIMEOUT_SECONDS", default=10.0)
# A failed call is tried again after 1 min, 2, 4 … (at most an hour) and fails for good once an
# attempt fails this many hours after its first.
WEBHOOKS_BACKOFF_SECONDS = env.int("WEBHOOKS_BACKOFF_SECONDS", default=60)
WEBHOOKS_BACKOFF_MAX_SECONDS = env.int("WEBHOOKS_BACKOFF_MAX_SECONDS", default=3600)
WEBHOOKS_RETRY_HOURS = env.int("WEBHOOKS_RETRY_HOURS", default=24)
# A subscription whose attempts have all failed for this many days is turned off, its admins told.
WEBHOOKS_DISABLE_AFTER_DAYS = env.int("WEBHOOKS_DISABLE_AFTER_DAYS", default=3)
WEBHOOKS_CLAIM_SECONDS = env.int("WEBHOOKS_CLAIM_SECONDS", default=60)  # longer than one attempt can take
WEBHOOKS_LOST_AFTER_SECONDS = env.int("WEBHOOKS_LOST_AFTER_SECONDS", default=600)
# The delivery log keeps settled calls this long (a call still waiting is kept).
WEBHOOKS_LOG_DAYS = env.int("WEBHOOKS_LOG_DAYS", default=30)

# A responses export larger than this is written by a worker (an export job) rather than in the
# web request, whose worker a slow client or a long query would let the 30 s timeout kill mid-file
# (docs/adr/0022). An XLSX is built whole before its first byte is sent: its limit is lower.
EXPORT_STREAM_MAX_ROWS = env.int("EXPORT_STREAM_MAX_ROWS", default=20_000)
EXPORT_XLSX_STREAM_MAX_ROWS = env.int("EXPORT_XLSX_STREAM_MAX_ROWS", default=5_000)
# An export job's file is deleted this long after it was written.
EXPORT_RETENTION_HOURS = env.int("EXPORT_RETENTION_HOURS", default=72)

# --- REST API
REST_FRAMEWORK = {
    # Bearer tokens first: a request without credentials is then a 401 that names the scheme
    # (WWW-Authenticate: Bearer), not a bare 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "cxplatform.tokens.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["cxplatform.api_access.IsOrganizationMember"],
    "DEFAULT_PARSER_CLASSES": [
        "cxplatform.api_access.SafeJSONParser",
        "cxplatform.api_access.SafeFormParser",
        "cxplatform.api_access.SafeMultiPartParser",
    ],
    # The browsable API (HTML) is a developer's tool: production answers JSON only.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if env.bool("BROWSABLE_API", default=DEBUG) else []),
    "DEFAULT_FILTER_BACKENDS": ["cxplatform.api_access.OrgScopedFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "cxplatform.api_access.NewestFirstPagination",
    "EXCEPTION_HANDLER": "cxplatform.api_errors.exception_handler",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CX Platform API",
    "DESCRIPTION": "Surveys, journeys, feedback, metrics and actions of one organization.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema maps every operation and field: for signed-in people and tokens only.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # The docs page's Swagger UI comes from drf-spectacular-sidecar's static files, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Every operation's 4xx answers share one body (cxplatform/api_errors.py).
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "cxplatform.api_errors.document_error_responses"],
    # One name for the one language choice set used by customers, surveys and responses.
    "ENUM_NAME_OVERRIDES": {
        "LanguageEnum": "cxplatform.settings.LANGUAGES",
        "FeedbackPriorityEnum": "feedback.models.FeedbackItem.Priority",
        "FeedbackSourceEnum": "feedback.models.FeedbackItem.Source",
        "IncomingSourceEnum": "feedback.api.INCOMING_SOURCES",
        "ChannelKindEnum": "journeys.models.Channel.Kind",
        "QuestionKindEnum": "surveys.models.Question.Kind",
        "ImportJobStatusEnum": "cxplatform.models.ImportJobBase.Status",
        "FeedbackStatusEnum": "feedback.models.FeedbackItem.Status",
        "MessageStatusEnum": "feedback.models.Message.Status",
        "ReplyThenStatusEnum": "feedback.api.THEN_STATUSES",
        "ActionStatusEnum": "actions.models.ActionItem.Status",
    },
}

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
# EMAIL_URL (django-environ's form: smtp://user:pass@host:25, smtp+tls://…, consolemail://) wins
# over EMAIL_BACKEND: one variable says where mail goes.
if env("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
# Text messages (SMS) go through a backend like Django's e-mail ones (cxplatform/sms.py):
# console (development), file (SMS_FILE_PATH), locmem (tests) or http (POSTs JSON to SMS_HTTP_URL,
# signed with SMS_HTTP_SECRET).
SMS_BACKEND = env("SMS_BACKEND", default="cxplatform.sms.ConsoleBackend")
SMS_FILE_PATH = env("SMS_FILE_PATH", default=str(BASE_DIR / "sms-messages"))
SMS_HTTP_URL = env("SMS_HTTP_URL", default="")
SMS_HTTP_SECRET = env("SMS_HTTP_SECRET", default="")
SMS_HTTP_TIMEOUT = env.float("SMS_HTTP_TIMEOUT", default=10.0)
SMS_SENDER = env("SMS_SENDER", default="")
# Bounces and complaints come back signed with this secret (HMAC-SHA256 of the body).
BOUNCE_WEBHOOK_SECRET = env("BOUNCE_WEBHOOK_SECRET", default="")
# Invitations a sender claims at once, and how long a claim holds before another worker may
# take the row over (a killed worker's invitations are sent by the next one).
INVITATION_BATCH = env.int("INVITATION_BATCH", default=200)
INVITATION_CLAIM_SECONDS = env.int("INVITATION_CLAIM_SECONDS", default=120)
# The audit log keeps entries this long (two years by default), then a beat task purges them.
AUDIT_RETENTION_DAYS = env.int("AUDIT_RETENTION_DAYS", default=730)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="cx@localhost")
# Where customers' answers to inbox replies should go (the mailbox the e-mail connector reads).
INBOX_REPLY_TO = env("INBOX_REPLY_TO", default="")
# Where people reach the site, for links in e-mails (digests, notifications).
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")
# An invitation to join an organization stops working after this many days (a resend restarts it).
MEMBER_INVITATION_DAYS = env.int("MEMBER_INVITATION_DAYS", default=7)
# Password-reset requests per 10 minutes, per address asked for and per client address.
PASSWORD_RESET_LIMIT_PER_EMAIL = env.int("PASSWORD_RESET_LIMIT_PER_EMAIL", default=3)
PASSWORD_RESET_LIMIT_PER_IP = env.int("PASSWORD_RESET_LIMIT_PER_IP", default=20)

# Addresses of reverse proxies (CIDR allowed) whose X-Forwarded-For and X-Forwarded-Proto are believed.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])

# --- Production hardening: in force whenever DEBUG is off (`check --deploy` passes).
if not DEBUG:
    if TRUSTED_PROXIES:
        # Only a proxy we trust says the client spoke HTTPS; without one, anyone could send the header.
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- Content-Security-Policy (django-csp; ADR 0009). Scripts come only from our own static
# files: no inline <script>, no on…= attributes, no eval. The plotly.js we ship draws our
# charts (scatter, bar, heatmap: SVG) without eval, so 'unsafe-eval' is not needed.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        # Styles keep 'unsafe-inline': templates set style="…" attributes (the survey scale's
        # --n, the sentiment bar's widths), and htmx and plotly.js insert <style> elements.
        # An injected style cannot run code; an injected script could.
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        # No site may frame our pages, except the public survey pages, which say otherwise
        # (SURVEY_FRAME_ANCESTORS, below).
        "frame-ancestors": [NONE],
        # The path itself, not reverse_lazy(): django-csp copies each directive on every response,
        # and copying a lazy string rebuilds its class (a third of a request that does nothing).
        # tests/cxplatform/test_content_policy.py holds it to the URL's name.
        "report-uri": "/csp-report/",
    },
}
# Who may put the public survey pages in an iframe (the embed snippets run on customers'
# sites): "*" for any site, or a list of origins such as "https://shop.example".
SURVEY_FRAME_ANCESTORS = env.list("SURVEY_FRAME_ANCESTORS", default=["*"])

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

# --- Public endpoints (survey pages, webhooks)
# Per link and client address: high, so a store kiosk or a QR poster keeps working.
RATE_LIMIT_PER_LINK_IP = env.int("RATE_LIMIT_PER_LINK_IP", default=600)  # requests per 10 minutes
# Per respondent (response token): stops one respondent's script, never anyone else.
RATE_LIMIT_PER_RESPONDENT = env.int("RATE_LIMIT_PER_RESPONDENT", default=30)  # requests per 10 minutes
# How long a process keeps a survey link it has read (surveys/respondent.py); 0 reads it every time.
PUBLIC_LINK_CACHE_SECONDS = env.float("PUBLIC_LINK_CACHE_SECONDS", default=2.0)
RATE_LIMIT_WINDOW_SECONDS = 600
# The audit log's CSV is streamed in the request: more entries than this (about 7 s at the
# 7,000 rows/s measured on a 2-core machine, well inside gunicorn's 30 s) are refused with a
# request to narrow the dates, never served short.
AUDIT_EXPORT_MAX_ROWS = env.int("AUDIT_EXPORT_MAX_ROWS", default=50_000)
# Content-Security-Policy reports (anyone may post them; each is a log line): per client address,
# and from everyone together, per RATE_LIMIT_WINDOW_SECONDS. Past either, reports are dropped unlogged.
CSP_REPORTS_PER_IP = env.int("CSP_REPORTS_PER_IP", default=100)
CSP_REPORTS_IN_ALL = env.int("CSP_REPORTS_IN_ALL", default=2000)
# Signed personal links stop working after this many days.
SURVEY_LINK_MAX_AGE_DAYS = env.int("SURVEY_LINK_MAX_AGE_DAYS", default=180)
# Longest comment or open answer a respondent may send.
SURVEY_TEXT_MAX_LENGTH = 5000
# An answer left unfinished (a score clicked, then the tab closed) counts, as its last state, once
# it has not changed for this long (docs/adr/0011).
ANSWER_ABANDON_AFTER = timedelta(minutes=env.int("ANSWER_ABANDON_AFTER_MINUTES", default=30))

# --- Metrics
# The nightly reconciliation rebuilds this many recent days from raw responses.
METRICS_RECONCILE_DAYS = env.int("METRICS_RECONCILE_DAYS", default=7)
# An answer marks its (survey, day) dirty; the rebuild runs this long after a day's first mark,
# folding in every answer of the moment at once.
METRICS_REBUILD_DELAY_SECONDS = env.float("METRICS_REBUILD_DELAY_SECONDS", default=2.0)
