"""Atomic fixed-window rate limits kept in the database (works the same on PostgreSQL and SQLite).

One statement increments and reads the counter, so concurrent requests can never all see
"below the limit": 20 simultaneous requests against a limit of 3 let exactly 3 through.
"""

import ipaddress
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from .models import RateLimitBucket


def _window_start(now: datetime, seconds: int) -> datetime:
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=now.tzinfo)


def hit(key: str, limit: int, window_seconds: int, now: datetime | None = None) -> bool:
    """Count one request for `key`; True while the window's count is within `limit`."""
    window = _window_start(now or timezone.now(), window_seconds)
    table = RateLimitBucket._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (\"key\", window_start, \"count\") VALUES (%s, %s, 1) "  # noqa: S608 — our table  # nosec B608
            f"ON CONFLICT (\"key\", window_start) DO UPDATE SET \"count\" = {table}.\"count\" + 1 RETURNING \"count\"",
            [key[:200], window],
        )
        (count,) = cursor.fetchone()
    return count <= limit


def prune(older_than: timedelta = timedelta(days=1)) -> int:
    deleted, _ = RateLimitBucket.objects.filter(window_start__lt=timezone.now() - older_than).delete()
    return deleted


def client_ip(request) -> str:
    """The client's address. X-Forwarded-For is believed only when the request came through a
    configured proxy (TRUSTED_PROXIES); then the right-most address not of a proxy is the client."""
    remote = request.META.get("REMOTE_ADDR", "")
    trusted = [ipaddress.ip_network(n, strict=False) for n in settings.TRUSTED_PROXIES]

    def is_proxy(address):
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in trusted)

    if not is_proxy(remote):
        return remote
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
    for address in reversed(forwarded):
        if not is_proxy(address):
            try:
                return str(ipaddress.ip_address(address))
            except ValueError:
                return remote
    return remote


# django-axes stores the username tried in a 255-character column (AccessAttempt, AccessLog).
AXES_USERNAME_MAX_LENGTH = 255


def login_username(request, credentials=None) -> str | None:
    """The username django-axes counts failures under (AXES_USERNAME_CALLABLE), cut to its
    column's length: any login form (the admin's too) could otherwise send a longer one, and the
    failure's INSERT would fail — a 500 instead of "wrong username or password"."""
    source = credentials if credentials else getattr(request, "data", None) or request.POST
    username = source.get("username")
    return username[:AXES_USERNAME_MAX_LENGTH] if isinstance(username, str) else username
