"""Single sign-on against a real OpenID Connect provider on loopback (tests/signin/oidc_provider.py):
our /oidc/authenticate/ sends the browser to it, it sends the browser back with a code, and our
callback exchanges the code over HTTP, checks the ID token's signature with the provider's JWKS,
reads userinfo, and signs the person in — with a membership when their e-mail domain is listed."""

from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest
import requests
from django.contrib.auth import get_user_model
from django.test import Client, override_settings

from cxplatform.audit import AuditAction
from cxplatform.models import AuditEntry, Membership, Role
from cxplatform.signin import services
from cxplatform.signin.models import SSODomain
from tests.signin.oidc_provider import CLIENT_ID, CLIENT_SECRET, LoopbackProvider

pytestmark = pytest.mark.django_db

PEOPLE = {
    "alice": {"email": "Alice@Alpha.example", "email_verified": True, "given_name": "Alice", "family_name": "Liepa"},
    "bob": {"email": "bob@elsewhere.example", "email_verified": True, "given_name": "Bob"},
    "carol": {"email": "carol@nowhere.example", "email_verified": True},
    "dave": {"email": "dave@alpha.example", "email_verified": False},
}


def sso_settings(provider, secret=CLIENT_SECRET):
    return override_settings(SSO_ENABLED=True, OIDC_ISSUER=provider.issuer, OIDC_RP_CLIENT_ID=CLIENT_ID,
                             OIDC_RP_CLIENT_SECRET=secret, OIDC_VERIFY_SSL=provider.ca_file)


@contextmanager
def sso_provider(secret=CLIENT_SECRET, **options):
    """A running loopback provider, and our settings pointing at it."""
    with LoopbackProvider(redirect_uri="http://testserver/oidc/callback/", people=PEOPLE, **options) as running, \
            sso_settings(running, secret=secret):
        yield running


@pytest.fixture
def provider():
    with sso_provider() as running:
        yield running


def single_sign_on(client, provider, person, next_url="/customers/"):
    """The browser's part: our start page, the provider (where `person` is signed in), our callback."""
    provider.signed_in_as = person
    start = client.get(f"/oidc/authenticate/?next={next_url}")
    assert start.status_code == 302 and start.url.startswith(f"{provider.issuer}/authorize?")
    at_provider = requests.get(start.url, allow_redirects=False, timeout=10, verify=provider.ca_file)
    assert at_provider.status_code == 302, at_provider.text
    back = urlsplit(at_provider.headers["Location"])
    assert back.netloc == "testserver" and back.path == "/oidc/callback/"
    return client.get(f"{back.path}?{back.query}")


def test_a_person_from_a_listed_domain_signs_in_and_joins_with_its_role(provider, org_a, org_b):
    SSODomain.objects.create(organization=org_a, domain="alpha.example", role=Role.AGENT)
    client = Client()
    answer = single_sign_on(client, provider, "alice")
    assert answer.status_code == 302 and answer.url == "/customers/"
    # The whole code flow went over HTTP to the provider: discovery, token, keys, userinfo.
    assert {"/.well-known/openid-configuration", "/authorize", "/token", "/jwks", "/userinfo"} <= set(provider.requests)

    user = get_user_model().objects.get(email="alice@alpha.example")
    assert (user.first_name, user.last_name) == ("Alice", "Liepa") and not user.has_usable_password()
    membership = Membership.objects.get(user=user)
    assert (membership.organization, membership.role) == (org_a, Role.AGENT)
    page = client.get("/customers/")
    assert page.status_code == 200
    joined = AuditEntry.objects.get(action=AuditAction.MEMBER_JOINED_BY_SSO)
    assert joined.organization == org_a and joined.actor == user
    assert joined.details == {"domain": "alpha.example", "role": "agent"}
    assert AuditEntry.objects.get(action=AuditAction.SSO_SIGNED_IN).organization == org_a

    # The second sign-in finds the same account and adds nothing.
    single_sign_on(Client(), provider, "alice")
    assert get_user_model().objects.filter(email__iexact="alice@alpha.example").count() == 1
    assert Membership.objects.filter(user=user).count() == 1
    assert AuditEntry.objects.filter(action=AuditAction.SSO_SIGNED_IN).count() == 2


def test_an_existing_account_is_matched_by_verified_email_and_skips_our_code(provider, org_b, make_member):
    user = make_member(org_b, Role.CX_MANAGER)
    user.email = "BOB@elsewhere.example"
    user.save()
    org_b.require_two_factor = True
    org_b.save()
    # Two-factor on: signing in with the password would ask for a code; SSO does not.
    device = services.pending_device(user=user)
    device.confirmed = True
    device.save()

    client = Client()
    answer = single_sign_on(client, provider, "bob")
    assert answer.status_code == 302 and answer.url == "/customers/"
    assert client.get("/customers/").status_code == 200
    assert Membership.objects.filter(user=user).count() == 1
    assert not AuditEntry.objects.filter(action=AuditAction.MEMBER_JOINED_BY_SSO).exists()


def test_an_email_from_no_listed_domain_and_no_account_is_refused(provider, org_a):
    SSODomain.objects.create(organization=org_a, domain="alpha.example")
    client = Client()
    answer = single_sign_on(client, provider, "carol")
    assert answer.status_code == 302 and answer.url == "/login/"
    # The login page says why, once.
    page = client.get("/login/").content.decode()
    assert "No organization here lets people from nowhere.example join by single sign-on" in page
    assert "invite you" in page
    assert "nowhere.example" not in client.get("/login/").content.decode()
    assert not get_user_model().objects.filter(email__iexact="carol@nowhere.example").exists()
    assert client.get("/customers/").status_code == 302
    assert not AuditEntry.objects.filter(action=AuditAction.SSO_SIGNED_IN).exists()


def test_an_unverified_email_is_refused_even_from_a_listed_domain(provider, org_a):
    SSODomain.objects.create(organization=org_a, domain="alpha.example")
    client = Client()
    answer = single_sign_on(client, provider, "dave")
    assert answer.url == "/login/"
    assert "did not confirm your e-mail" in client.get("/login/").content.decode()
    assert not get_user_model().objects.filter(email__iexact="dave@alpha.example").exists()


def test_a_deactivated_member_is_not_brought_back_by_sso(provider, org_a, make_member):
    SSODomain.objects.create(organization=org_a, domain="alpha.example", role=Role.ADMIN)
    user = make_member(org_a, Role.VIEWER)
    user.email = "alice@alpha.example"
    user.save()
    Membership.objects.filter(user=user).update(is_active=False)
    client = Client()
    single_sign_on(client, provider, "alice")
    membership = Membership.objects.get(user=user)
    assert not membership.is_active and membership.role == Role.VIEWER
    assert client.get("/customers/").status_code == 403


def test_a_wrong_client_secret_fails_cleanly(org_a):
    SSODomain.objects.create(organization=org_a, domain="alpha.example")
    with sso_provider(secret="not-the-secret") as running:
        answer = single_sign_on(Client(), running, "alice")
    assert answer.status_code == 302 and answer.url == "/login/"
    assert not get_user_model().objects.filter(email__iexact="alice@alpha.example").exists()


def test_an_id_token_whose_signature_does_not_match_the_published_keys_is_refused(org_a):
    SSODomain.objects.create(organization=org_a, domain="alpha.example")
    client = Client()
    with sso_provider(forged_keys=True) as running:
        answer = single_sign_on(client, running, "alice")
        assert "/jwks" in running.requests
    assert answer.status_code == 302 and answer.url == "/login/"
    assert not get_user_model().objects.filter(email__iexact="alice@alpha.example").exists()
    assert client.get("/customers/").status_code == 302


def test_a_provider_that_cannot_be_reached_is_said_so(db):
    client = Client()
    # Port 9 (discard) on loopback: nothing listens, discovery fails at once.
    with override_settings(SSO_ENABLED=True, OIDC_ISSUER="https://127.0.0.1:9", OIDC_RP_CLIENT_ID=CLIENT_ID):
        answer = client.get("/oidc/authenticate/")
    assert answer.status_code == 302 and answer.url == "/login/"
    assert "Single sign-on is unavailable right now" in client.get("/login/").content.decode()


def test_the_login_page_offers_sso_only_when_configured(provider):
    page = Client().get("/login/?next=/customers/").content.decode()
    assert "Sign in with single sign-on" in page and "/oidc/authenticate/?next=/customers/" in page


@override_settings(SSO_ENABLED=False, OIDC_RP_CLIENT_ID="")
def test_without_a_client_id_there_is_no_button_and_no_route(db):
    client = Client()
    assert "single sign-on" not in client.get("/login/").content.decode()
    assert client.get("/oidc/authenticate/").status_code == 404
    assert client.get("/oidc/callback/?code=x&state=y").status_code == 404


def test_an_invited_person_from_an_unlisted_domain_signs_in_by_sso_and_joins_with_the_invited_role(
        provider, org_a, make_member):
    from cxplatform.team import selectors as team_selectors
    from cxplatform.team import services as team

    admin = make_member(org_a, Role.ADMIN)
    team.invite_member(organization=org_a, email="carol@nowhere.example", role=Role.CX_MANAGER, invited_by=admin)
    invitation = team_selectors.open_invitations(org_a).get()
    token = "carol-token"  # the mailed secret is not kept: give the invitation one the test knows
    type(invitation).objects.filter(pk=invitation.pk).update(token_hash=team.hash_token(token))
    accept = f"/account/invitation/{token}/"

    client = Client()
    answer = single_sign_on(client, provider, "carol", next_url=accept)
    assert answer.status_code == 302 and answer.url == accept
    carol = get_user_model().objects.get(email__iexact="carol@nowhere.example")
    assert not Membership.objects.filter(user=carol).exists()  # the invitation's page makes it
    assert client.post(accept).status_code == 302
    membership = Membership.objects.get(user=carol)
    assert (membership.organization, membership.role) == (org_a, Role.CX_MANAGER)
