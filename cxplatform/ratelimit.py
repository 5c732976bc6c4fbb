"""Fixed-window rate limits, counted in a cache: Redis when the deployment has one (every web
process shares the counters), else this process's memory (the embedded default).

Redis's INCR (and the memory cache's lock) makes each count atomic, so concurrent requests can never
all see "below the limit": 20 simultaneous requests against a limit of 3 let exactly 3 through.
The counters stay out of the database, so a customer's answer commits once, not three times. A
counter store that is down or hangs lets requests through (fails open, in at most its socket
timeout): a rate limit must never take the survey pages down with it.
"""

import hashlib
import ipaddress
import logging
from datetime import datetime

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.utils import timezone

logger = logging.getLogger(__name__)
CACHE = "ratelimit"


def hit(key: str, limit: int, window_seconds: int, now: datetime | None = None) -> bool:
    """Count one request for `key`; True while the window's count is within `limit`."""
    return hit_all([(key, limit)], window_seconds, now)


def hit_all(limits: list[tuple[str, int]], window_seconds: int, now: datetime | None = None) -> bool:
    """Count one request against each (key, limit) at once; True while every count is within
    its limit."""
    window = int((now or timezone.now()).timestamp()) // window_seconds
    counters = [
        (f"rl:{window_seconds}:{window}:{hashlib.sha1(key.encode(), usedforsecurity=False).hexdigest()}", limit)
        for key, limit in limits
    ]
    try:
        counts = _count(caches[CACHE], [counter for counter, _limit in counters], timeout=window_seconds + 5)
    except Exception:
        logger.warning("rate-limit counters unavailable; letting %s through", limits, exc_info=True)
        return True
    return all(count <= limit for count, (_counter, limit) in zip(counts, counters, strict=True))


def _client(store: RedisCache):
    """One Redis client per cache connection, kept on it (and freed with it): Django's cache makes a
    new client (and its table of ~170 reply callbacks) for every call, a third of a millisecond
    per request here."""
    connection = store._cache
    client = getattr(connection, "_ratelimit_client", None)
    if client is None:
        client = connection._ratelimit_client = connection._client(
            connection_pool=connection._get_connection_pool(write=True))
    return client


def _count(store, counters: list[str], *, timeout: int) -> list[int]:
    """Add one to each counter, made with `timeout` if new; the new counts."""
    if isinstance(store, RedisCache):
        # One round trip for all of them (Django's cache API would take three per counter:
        # add, then incr's existence check and the INCR itself).
        with _client(store).pipeline(transaction=True) as pipe:
            for counter in counters:
                key = store.make_and_validate_key(counter)
                pipe.incr(key)
                pipe.expire(key, timeout)
            return pipe.execute()[::2]
    counts = []
    for counter in counters:
        store.add(counter, 0, timeout=timeout)
        try:
            counts.append(store.incr(counter))
        except ValueError:  # expired between add and incr: this is the window's first request
            counts.append(1)
    return counts


def _address(text: str):
    """`text` as an address, an IPv4 one written as IPv6 (::ffff:a.b.c.d, from a dual-stack
    listener) as IPv4; None when it is not an address."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    return address.ipv4_mapped or address if address.version == 6 else address


_MAPPED = ipaddress.ip_network("::ffff:0:0/96")


def _network(text: str):
    """A TRUSTED_PROXIES entry; IPv4 written as IPv6 (::ffff:10.0.0.0/104) as IPv4, as `_address`
    reads the addresses compared with it."""
    network = ipaddress.ip_network(text, strict=False)
    if network.version == 6 and network.prefixlen >= 96 and network.subnet_of(_MAPPED):
        return ipaddress.ip_network(f"{network.network_address.ipv4_mapped}/{network.prefixlen - 96}")
    return network


def client_ip(request) -> str:
    """The client's address. X-Forwarded-For is believed only when the request came through a
    configured proxy (TRUSTED_PROXIES); then the right-most address not of a proxy is the client."""
    remote = request.META.get("REMOTE_ADDR", "")
    trusted = [_network(n) for n in settings.TRUSTED_PROXIES]

    def is_proxy(address):
        return address is not None and any(address in network for network in trusted)

    remote_address = _address(remote)
    if remote_address is not None:
        remote = str(remote_address)
    if not is_proxy(remote_address):
        return remote
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
    for text in reversed(forwarded):
        address = _address(text)
        if address is None:
            return remote
        if not is_proxy(address):
            return str(address)
    return remote


def _client_network(request):
    """The client as a rate limit counts it: its address, an IPv6 one as its /64 (one subscriber's
    or one machine's share, which it could otherwise walk through address by address); None when
    the client's address is not an address."""
    address = _address(client_ip(request))
    if address is None or address.version == 4:
        return address
    return ipaddress.ip_network(f"{address}/64", strict=False)


def client_key(request) -> str:
    """Whom a rate limit counts: `_client_network` as text."""
    network = _client_network(request)
    return client_ip(request) if network is None else str(network)


def lockout_address(request) -> str:
    """The address django-axes locks sign-ins out by (it stores an address, not a network): the
    client's, an IPv6 one as the first address of its /64, so walking through it does not escape."""
    network = _client_network(request)
    if network is None:
        return client_ip(request)
    return str(network.network_address if isinstance(network, ipaddress.IPv6Network) else network)


# django-axes stores the username tried in a 255-character column (AccessAttempt, AccessLog).
AXES_USERNAME_MAX_LENGTH = 255


def login_username(request, credentials=None) -> str | None:
    """The username django-axes counts failures under (AXES_USERNAME_CALLABLE), cut to its
    column's length: any login form (the admin's too) could otherwise send a longer one, and the
    failure's INSERT would fail — a 500 instead of "wrong username or password"."""
    source = credentials if credentials else getattr(request, "data", None) or request.POST
    username = source.get("username")
    return username[:AXES_USERNAME_MAX_LENGTH] if isinstance(username, str) else username
