"""One rule for the client's address: login lockouts (django-axes) and the platform's own rate
limits both believe X-Forwarded-For only from a configured proxy, so behind a proxy ten failed
logins lock out that client, not everyone coming through the proxy — and a client talking to us
directly cannot dodge a lockout by sending the header."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
PROXY = "10.1.2.3"


def fail_logins(username, times, **meta):
    for _ in range(times):
        Client(**meta).post("/login/", {"username": username, "password": "wrong"})


def can_log_in(username, password, **meta):
    client = Client(**meta)
    client.post("/login/", {"username": username, "password": password})
    return "_auth_user_id" in client.session


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(username="ilze", password="right-pass-123456")


def test_behind_a_proxy_a_lockout_is_of_the_client_not_of_everyone(settings, user):
    settings.TRUSTED_PROXIES = ["10.1.0.0/16"]
    attacker = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "203.0.113.66"}
    fail_logins("ilze", settings.AXES_FAILURE_LIMIT, **attacker)
    assert not can_log_in("ilze", "right-pass-123456", **attacker)
    # The real user, through the same proxy from her own address, still gets in.
    assert can_log_in("ilze", "right-pass-123456", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.7")


def test_without_a_proxy_a_forged_forwarded_for_does_not_dodge_the_lockout(settings, user):
    settings.TRUSTED_PROXIES = []
    for n in range(settings.AXES_FAILURE_LIMIT):
        fail_logins("ilze", 1, REMOTE_ADDR="203.0.113.66", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    assert not can_log_in("ilze", "right-pass-123456", REMOTE_ADDR="203.0.113.66",
                          HTTP_X_FORWARDED_FOR="192.0.2.200")


def test_walking_through_an_ipv6_64_does_not_dodge_the_lockout(settings, user):
    settings.TRUSTED_PROXIES = []
    for n in range(settings.AXES_FAILURE_LIMIT):
        fail_logins("ilze", 1, REMOTE_ADDR=f"2001:db8:7:8::{n + 1:x}")
    assert not can_log_in("ilze", "right-pass-123456", REMOTE_ADDR="2001:db8:7:8:ffff::1")
    assert can_log_in("ilze", "right-pass-123456", REMOTE_ADDR="2001:db8:7:9::1")  # another /64: someone else


def test_a_proxy_seen_through_a_dual_stack_listener_is_still_the_proxy(settings, user):
    """gunicorn bound to [::] sees an IPv4 proxy as ::ffff:10.1.2.3: still the trusted proxy, so
    each visitor is the address it forwards, not the proxy shared by everyone."""
    settings.TRUSTED_PROXIES = ["10.1.0.0/16"]
    attacker = {"REMOTE_ADDR": f"::ffff:{PROXY}", "HTTP_X_FORWARDED_FOR": "203.0.113.66"}
    fail_logins("ilze", settings.AXES_FAILURE_LIMIT, **attacker)
    assert not can_log_in("ilze", "right-pass-123456", **attacker)
    assert can_log_in("ilze", "right-pass-123456", REMOTE_ADDR=f"::ffff:{PROXY}", HTTP_X_FORWARDED_FOR="198.51.100.7")


def _production(extra):
    code = ("import django, json; django.setup(); from django.conf import settings as s; "
            "print(json.dumps(getattr(s, 'SECURE_PROXY_SSL_HEADER', None)))")
    env = {**{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}},
           "DJANGO_SETTINGS_MODULE": "cxplatform.settings", "DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(50),
           **extra}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_forwarded_proto_is_believed_only_with_a_proxy_configured():
    assert _production({"TRUSTED_PROXIES": ""}) is None
    assert _production({"TRUSTED_PROXIES": "10.0.0.0/8"}) == ["HTTP_X_FORWARDED_PROTO", "https"]
