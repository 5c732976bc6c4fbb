"""/settings/tokens/: a member manages their own tokens, an admin sees and revokes everyone's;
another organization's token id is a 404 like a missing one; bad input is a 400 that writes nothing."""

import pytest

from cxplatform.audit import AuditAction
from cxplatform.models import ApiToken, AuditEntry, Role
from cxplatform.tokens import services

pytestmark = pytest.mark.django_db

URL = "/settings/tokens/"


def revoke_url(token):
    return f"{URL}{token.pk}/revoke/"


def test_a_member_sees_only_their_own_tokens_and_an_admin_sees_everyones(org_a, make_member, client_for):
    agent, manager, admin = (make_member(org_a, role) for role in (Role.AGENT, Role.CX_MANAGER, Role.ADMIN))
    services.create_token(user=agent, organization=org_a, name="Agent's desk", scopes=["read"])
    services.create_token(user=manager, organization=org_a, name="Manager's CRM", scopes=["write"])
    mine = client_for(agent).get(URL).content.decode()
    assert "Agent&#x27;s desk" in mine and "Manager&#x27;s CRM" not in mine
    everyone = client_for(admin).get(URL).content.decode()
    assert "Agent&#x27;s desk" in everyone and "Manager&#x27;s CRM" in everyone and "All tokens" in everyone


def test_creating_a_token_on_the_page_records_it(org_a, make_member, client_for):
    user = make_member(org_a, Role.AGENT)
    page = client_for(user).post(URL, {"name": "Helpdesk", "scope": "write", "expires_on": "2099-01-31"})
    assert page.status_code == 200 and "shown only this once" in page.content.decode()
    token = ApiToken.objects.get()
    assert (token.user, token.organization, token.name, token.scope) == (user, org_a, "Helpdesk", "write")
    assert token.expires_at.date().isoformat() == "2099-01-31"
    entry = AuditEntry.objects.get()
    assert entry.action == AuditAction.TOKEN_CREATED and entry.actor == user and entry.ip_address == "127.0.0.1"


@pytest.mark.parametrize("data", [
    {"name": "", "scope": "read"},
    {"name": "X", "scope": "admin"},
    {"name": "X", "scope": "read", "expires_on": "2001-01-01"},
    {"name": "X", "scope": "read", "expires_on": "soon"},
    {"name": "X" * 101, "scope": "read"},
])
def test_bad_input_is_a_400_and_makes_no_token(org_a, make_member, client_for, data):
    page = client_for(make_member(org_a)).post(URL, data)
    assert page.status_code == 400 and 'class="error"' in page.content.decode()
    assert not ApiToken.objects.exists() and not AuditEntry.objects.exists()


def test_a_viewer_may_make_and_revoke_their_own_token(org_a, make_member, client_for):
    client = client_for(make_member(org_a, Role.VIEWER))
    assert client.post(URL, {"name": "Exec board", "scope": "read"}).status_code == 200
    token = ApiToken.objects.get()
    assert client.post(revoke_url(token)).status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_a_member_cannot_revoke_another_members_token(org_a, make_member, client_for):
    owner, other = make_member(org_a, Role.AGENT), make_member(org_a, Role.CX_MANAGER)
    token, _raw = services.create_token(user=owner, organization=org_a, name="Owner's", scopes=["read"])
    missing = client_for(other).post(f"{URL}{token.pk + 1000}/revoke/")
    refused = client_for(other).post(revoke_url(token))
    assert refused.status_code == missing.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_an_admin_revokes_anyones_token_and_the_log_says_who(org_a, make_member, client_for):
    owner, admin = make_member(org_a, Role.AGENT), make_member(org_a, Role.ADMIN)
    token, raw = services.create_token(user=owner, organization=org_a, name="Owner's", scopes=["read"])
    answer = client_for(admin).post(revoke_url(token), follow=True)
    assert answer.status_code == 200 and "was revoked" in answer.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is not None
    entry = AuditEntry.objects.get(action=AuditAction.TOKEN_REVOKED)
    assert entry.actor == admin and entry.details["owner"] == owner.username
    assert client_for(admin).get("/api/v1/customers/", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401


def test_another_organizations_token_is_404_like_a_missing_one(org_a, org_b, make_member, client_for):
    theirs, _raw = services.create_token(user=make_member(org_b), organization=org_b, name="B", scopes=["read"])
    intruder = client_for(make_member(org_a, Role.ADMIN))
    foreign = intruder.post(revoke_url(theirs))
    missing = intruder.post(f"{URL}{theirs.pk + 1000}/revoke/")
    assert foreign.status_code == missing.status_code == 404 and foreign.content == missing.content
    assert "B" not in intruder.get(URL).content.decode().split("<main")[1].split("All tokens")[1]
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_revoking_needs_a_post_and_a_sign_in(org_a, make_member, client_for):
    token, _raw = services.create_token(user=make_member(org_a), organization=org_a, name="T", scopes=["read"])
    assert client_for(token.user).get(revoke_url(token)).status_code == 405
    assert client_for(token.user).__class__().post(revoke_url(token)).status_code == 302  # to the sign-in page
    token.refresh_from_db()
    assert token.revoked_at is None


def test_the_settings_hub_links_the_page(org_a, make_member, client_for):
    assert URL in client_for(make_member(org_a, Role.VIEWER)).get("/settings/").content.decode()
