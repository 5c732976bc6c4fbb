"""Two-factor sign-in: turning it on and off, the second sign-in step, its rate limit, recovery
codes, and the organization that requires it of every member."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from cxplatform.audit import AuditAction
from cxplatform.models import AuditEntry, Role
from cxplatform.signin import services

pytestmark = pytest.mark.django_db

PASSWORD = "x-pass-123456"


def code_for(device, offset=0):
    device.refresh_from_db()
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift + offset):06d}"


def wrong_code_for(device):
    right = {code_for(device, offset) for offset in (-1, 0, 1)}
    return next(c for c in (f"{n:06d}" for n in range(1000)) if c not in right)


def entries(action, organization=None):
    qs = AuditEntry.objects.filter(action=action)
    return qs.filter(organization=organization) if organization else qs


@pytest.fixture
def traveller():
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


def turn_on(client, user):
    """Set up two-factor through the page, as a person would; returns the recovery codes."""
    page = client.get("/account/two-factor/")
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    answer = client.post("/account/two-factor/", {"action": "enable", "code": code_for(device)})
    assert answer.status_code == 200
    return re.findall(r"<li><code>([a-z0-9]{10})</code></li>", answer.content.decode())


def sign_in_with_password(client, user, next_url=""):
    return client.post("/login/", {"username": user.username, "password": PASSWORD, "next": next_url})


def test_turning_two_factor_on_shows_a_qr_code_then_recovery_codes_once(org_a, make_member, client_for, traveller):
    user = make_member(org_a, Role.VIEWER)  # a viewer may protect their own account too
    client = client_for(user)
    page = client.get("/account/two-factor/").content.decode()
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert 'src="data:image/svg+xml' in page
    secret = re.search(r'<code id="totp-secret">([A-Z2-7 ]+)</code>', page).group(1)
    assert secret.replace(" ", "") == __import__("base64").b32encode(device.bin_key).decode()
    # Reloading keeps the secret just scanned.
    client.get("/account/two-factor/")
    assert TOTPDevice.objects.filter(user=user).count() == 1

    refused = client.post("/account/two-factor/", {"action": "enable", "code": wrong_code_for(device)})
    assert refused.status_code == 400
    assert "That code is not right" in refused.content.decode()
    assert not services.has_two_factor(user)
    assert not entries(AuditAction.TWO_FACTOR_ENABLED).exists()

    traveller.shift(timedelta(seconds=5))  # django-otp makes one wait a second after a wrong code
    codes = turn_on(client, user)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert services.has_two_factor(user)
    assert sorted(StaticToken.objects.filter(device__user=user).values_list("token", flat=True)) == sorted(codes)
    entry = entries(AuditAction.TWO_FACTOR_ENABLED, org_a).get()
    assert entry.actor == user
    # The session that set it up has proved the device: it goes on working.
    assert client.get("/customers/").status_code == 200
    # The codes are not shown again.
    again = client.get("/account/two-factor/").content.decode()
    assert codes[0] not in again and "10 recovery codes left" in again


def test_sign_in_asks_for_the_code_and_nothing_is_reachable_before_it(org_a, make_member, client_for, traveller):
    user = make_member(org_a)
    turn_on(client_for(user), user)
    traveller.shift(timedelta(seconds=60))

    client = Client()
    answer = sign_in_with_password(client, user, next_url="/customers/")
    assert answer.status_code == 302 and answer.url == "/account/two-factor/verify/"
    # Password given, code not: not signed in, neither for pages nor for the API.
    assert client.get("/customers/").status_code == 302
    assert client.get("/customers/").url.startswith("/login/")
    assert client.get("/api/v1/customers/").status_code in (401, 403)
    assert client.get("/account/two-factor/verify/").status_code == 200

    device = services.confirmed_device(user)
    done = client.post("/account/two-factor/verify/", {"code": code_for(device)})
    assert done.status_code == 302 and done.url == "/customers/"
    assert client.get("/customers/").status_code == 200
    assert client.get("/api/v1/customers/").status_code == 200
    # The same code cannot be used twice (another sign-in within the same 30 seconds).
    other = Client()
    sign_in_with_password(other, user)
    assert other.post("/account/two-factor/verify/", {"code": code_for(device)}).status_code == 400


def test_a_person_without_two_factor_signs_in_with_the_password_alone(org_a, make_member):
    user = make_member(org_a)
    client = Client()
    answer = sign_in_with_password(client, user)
    assert answer.status_code == 302 and answer.url == "/"
    assert client.get("/customers/").status_code == 200


def test_wrong_codes_are_audited_and_stop_the_sign_in_after_five(org_a, make_member, client_for, traveller):
    user = make_member(org_a)
    turn_on(client_for(user), user)
    device = services.confirmed_device(user)
    client = Client()
    sign_in_with_password(client, user)
    statuses = []
    for _attempt in range(5):
        traveller.shift(timedelta(seconds=40))  # past django-otp's own growing delay
        statuses.append(client.post("/account/two-factor/verify/", {"code": wrong_code_for(device)}).status_code)
    assert statuses == [400, 400, 400, 400, 429]
    assert entries(AuditAction.TWO_FACTOR_FAILED, org_a).count() == 5
    # The half-done sign-in is over; the password again, then even the right code is refused
    # until the window has passed.
    assert client.get("/account/two-factor/verify/").status_code in (200, 302)
    sign_in_with_password(client, user)
    traveller.shift(timedelta(seconds=60))
    refused = client.post("/account/two-factor/verify/", {"code": code_for(device)})
    assert refused.status_code == 429
    assert client.get("/customers/").status_code == 302

    traveller.shift(timedelta(minutes=16))
    sign_in_with_password(client, user)
    assert client.post("/account/two-factor/verify/", {"code": code_for(device)}).status_code == 302
    assert client.get("/customers/").status_code == 200


def test_a_recovery_code_signs_in_once(org_a, make_member, client_for, traveller):
    user = make_member(org_a)
    codes = turn_on(client_for(user), user)
    client = Client()
    sign_in_with_password(client, user)
    # Spaces and capitals, as people copy codes from paper, are forgiven.
    typed = f" {codes[3][:5].upper()} {codes[3][5:]} "
    assert client.post("/account/two-factor/verify/", {"code": typed}).status_code == 302
    assert client.get("/customers/").status_code == 200
    assert services.recovery_codes_left(user) == 9

    again = Client()
    sign_in_with_password(again, user)
    traveller.shift(timedelta(seconds=5))
    assert again.post("/account/two-factor/verify/", {"code": codes[3]}).status_code == 400
    assert again.get("/customers/").status_code == 302


def test_the_half_done_sign_in_lapses(org_a, make_member, client_for, traveller):
    user = make_member(org_a)
    turn_on(client_for(user), user)
    client = Client()
    sign_in_with_password(client, user)
    traveller.shift(timedelta(minutes=6))
    answer = client.post("/account/two-factor/verify/", {"code": code_for(services.confirmed_device(user))})
    assert answer.status_code == 302 and answer.url == "/login/"
    assert client.get("/customers/").status_code == 302


def test_turning_off_takes_a_current_code(org_a, make_member, client_for, traveller):
    user = make_member(org_a)
    client = client_for(user)
    turn_on(client, user)
    device = services.confirmed_device(user)
    traveller.shift(timedelta(seconds=40))
    refused = client.post("/account/two-factor/", {"action": "disable", "code": wrong_code_for(device)})
    assert refused.status_code == 400 and services.has_two_factor(user)
    assert not entries(AuditAction.TWO_FACTOR_DISABLED).exists()
    traveller.shift(timedelta(seconds=40))
    empty = client.post("/account/two-factor/", {"action": "disable", "code": ""})
    assert empty.status_code == 400 and services.has_two_factor(user)

    answer = client.post("/account/two-factor/", {"action": "disable", "code": code_for(device)})
    assert answer.status_code == 302
    assert not services.has_two_factor(user)
    assert not StaticToken.objects.filter(device__user=user).exists()
    assert entries(AuditAction.TWO_FACTOR_DISABLED, org_a).get().actor == user
    fresh = Client()
    assert sign_in_with_password(fresh, user).url == "/"


def test_an_old_session_of_a_person_with_two_factor_owes_the_code(org_a, make_member, client_for, traveller):
    """A session signed in some other way (here: before the device existed) gets no page and no
    API until the code is given."""
    user = make_member(org_a)
    turn_on(client_for(user), user)
    traveller.shift(timedelta(seconds=60))
    old = client_for(user)  # force_login: signed in, never verified
    page = old.get("/customers/")
    assert page.status_code == 302 and page.url == "/account/two-factor/verify/"
    api = old.get("/api/v1/customers/")
    assert api.status_code == 403 and api.json()["error"]["code"] == "two_factor_required"
    assert old.get("/account/two-factor/").status_code == 302
    code = code_for(services.confirmed_device(user))
    assert old.post("/account/two-factor/verify/", {"code": code}).status_code == 302
    assert old.get("/customers/").status_code == 200


def test_an_organization_can_require_two_factor_of_every_member(org_a, org_b, make_member, client_for, traveller):
    admin = make_member(org_a, Role.ADMIN)
    agent = make_member(org_a, Role.AGENT)
    admin_client = client_for(admin)
    turn_on(admin_client, admin)
    assert client_for(agent).get("/settings/security/").status_code == 403

    answer = admin_client.post("/settings/security/", {"action": "two_factor", "require_two_factor": "on"})
    assert answer.status_code == 302
    org_a.refresh_from_db()
    assert org_a.require_two_factor
    entry = entries(AuditAction.SETTINGS_CHANGED, org_a).get()
    assert entry.details == {"section": "security", "require_two_factor": True} and entry.actor == admin
    # The admin who set it up keeps working.
    assert admin_client.get("/customers/").status_code == 200

    agent_client = client_for(agent)
    sent = agent_client.get("/customers/")
    assert sent.status_code == 302 and sent.url == "/account/two-factor/"
    assert agent_client.get("/api/v1/customers/").status_code == 403
    assert "requires two-factor sign-in" in agent_client.get("/account/two-factor/").content.decode()
    turn_on(agent_client, agent)
    assert agent_client.get("/customers/").status_code == 200

    # Another organization's members are not asked.
    other = make_member(org_b, Role.AGENT)
    assert client_for(other).get("/customers/").status_code == 200

    admin_client.post("/settings/security/", {"action": "two_factor"})
    org_a.refresh_from_db()
    assert not org_a.require_two_factor
    assert entries(AuditAction.SETTINGS_CHANGED, org_a).count() == 2


def test_settings_home_links_both_pages(org_a, make_member, client_for):
    admin_page = client_for(make_member(org_a, Role.ADMIN)).get("/settings/").content.decode()
    viewer_page = client_for(make_member(org_a, Role.VIEWER)).get("/settings/").content.decode()
    assert "/settings/security/" in admin_page and "/account/two-factor/" in admin_page
    assert "/settings/security/" not in viewer_page and "/account/two-factor/" in viewer_page


def test_the_code_step_keeps_only_a_safe_next_address(org_a, make_member, client_for, traveller):
    user = make_member(org_a)
    turn_on(client_for(user), user)
    traveller.shift(timedelta(seconds=60))
    client = Client()
    sign_in_with_password(client, user, next_url="https://evil.example/")
    done = client.post("/account/two-factor/verify/", {"code": code_for(services.confirmed_device(user))})
    assert done.status_code == 302 and done.url == "/"


def test_the_code_page_without_a_password_first_goes_to_the_login(db):
    client = Client()
    assert client.get("/account/two-factor/verify/").url == "/login/"
    answer = client.post("/account/two-factor/verify/", {"code": "123456"})
    assert answer.status_code == 302 and answer.url == "/login/"
    assert not AuditEntry.objects.exists()
