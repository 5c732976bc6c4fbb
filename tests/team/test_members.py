"""The members page: roles, the last administrator, deactivation (which signs out), who may see it."""

import pytest
from django.test import Client
from django.utils import timezone

from cxplatform.audit import AuditAction
from cxplatform.models import Membership, Role
from tests import factories
from tests.team.helpers import actions

pytestmark = pytest.mark.django_db


def membership(user, org):
    return Membership.objects.get(user=user, organization=org)


def test_the_page_lists_members_their_state_last_sign_in_and_invitations(org_a, org_b, make_member, client_for):
    admin = make_member(org_a, Role.ADMIN)
    agent = make_member(org_a, Role.AGENT, username="agent-karlis")
    agent.last_login = timezone.now().replace(year=2026, month=11, day=20)
    agent.save()
    gone = make_member(org_a, Role.VIEWER, username="gone-guna")
    Membership.objects.filter(user=gone).update(is_active=False)
    stranger = make_member(org_b, Role.ADMIN, username="stranger-beta")
    factories.member_invitation(org_a, email="waiting@x.example")
    factories.member_invitation(org_b, email="elsewhere@x.example")

    page = client_for(admin).get("/settings/members/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "agent-karlis" in text and "gone-guna" in text and "Deactivated" in text
    assert "11/20/2026" in text and "Never" in text
    assert "waiting@x.example" in text
    assert stranger.username not in text and "elsewhere@x.example" not in text


def test_only_admins_open_it(org_a, make_member, client_for):
    for role in (Role.CX_MANAGER, Role.AGENT, Role.VIEWER):
        assert client_for(make_member(org_a, role)).get("/settings/members/").status_code == 403
    manager = client_for(make_member(org_a, Role.CX_MANAGER))
    assert manager.post("/settings/members/invite/", {"email": "x@x.example", "role": "admin"}).status_code == 403
    assert Client().get("/settings/members/").status_code == 302  # to the login page
    assert "/settings/members/" in client_for(make_member(org_a, Role.ADMIN)).get("/settings/").content.decode()


def test_another_organizations_members_answer_404(org_a, org_b, make_member, client_for):
    intruder = client_for(make_member(org_b, Role.ADMIN))
    victim = make_member(org_a, Role.AGENT)
    invitation = factories.member_invitation(org_a)
    target = membership(victim, org_a)
    for url, data in [(f"/settings/members/{target.pk}/role/", {"role": "admin"}),
                      (f"/settings/members/{target.pk}/deactivate/", {}),
                      (f"/settings/members/{target.pk}/reactivate/", {}),
                      (f"/settings/members/invitations/{invitation.pk}/resend/", {}),
                      (f"/settings/members/invitations/{invitation.pk}/revoke/", {})]:
        assert intruder.post(url, data).status_code == 404, url
    missing = intruder.post(f"/settings/members/{target.pk + 1000}/role/", {"role": "admin"})
    foreign = intruder.post(f"/settings/members/{target.pk}/role/", {"role": "admin"})
    assert missing.content == foreign.content
    target.refresh_from_db()
    invitation.refresh_from_db()
    assert target.role == Role.AGENT and target.is_active and invitation.is_open
    assert actions(org_a) == [] and actions(org_b) == []


def test_a_role_change_is_recorded_with_from_and_to(org_a, make_member, client_for):
    admin = make_member(org_a, Role.ADMIN)
    agent = make_member(org_a, Role.AGENT)
    response = client_for(admin).post(f"/settings/members/{membership(agent, org_a).pk}/role/",
                                      {"role": Role.CX_MANAGER})
    assert response.status_code == 302
    assert membership(agent, org_a).role == Role.CX_MANAGER
    [entry] = actions(org_a, AuditAction.ROLE_CHANGED)
    assert entry.details == {"from": "agent", "to": "cx_manager"} and entry.actor == admin
    bad = client_for(admin).post(f"/settings/members/{membership(agent, org_a).pk}/role/", {"role": "owner"})
    assert bad.status_code == 400 and membership(agent, org_a).role == Role.CX_MANAGER


def test_the_last_admin_cannot_be_demoted_or_deactivated(org_a, make_member, client_for):
    admin = make_member(org_a, Role.ADMIN)
    own = membership(admin, org_a)
    client = client_for(admin)
    demote = client.post(f"/settings/members/{own.pk}/role/", {"role": Role.VIEWER})
    assert demote.status_code == 400 and b"at least one active administrator" in demote.content
    leave = client.post(f"/settings/members/{own.pk}/deactivate/")
    assert leave.status_code == 400
    own.refresh_from_db()
    assert own.role == Role.ADMIN and own.is_active
    # A deactivated admin does not count: the one active admin is still the last.
    other = make_member(org_a, Role.ADMIN)
    Membership.objects.filter(user=other).update(is_active=False)
    assert client.post(f"/settings/members/{own.pk}/role/", {"role": Role.VIEWER}).status_code == 400

    # With a second active admin, the first may step down.
    Membership.objects.filter(user=other).update(is_active=True)
    assert client.post(f"/settings/members/{own.pk}/role/", {"role": Role.CX_MANAGER}).status_code == 302
    assert membership(admin, org_a).role == Role.CX_MANAGER
    assert actions(org_a, AuditAction.ROLE_CHANGED)[0].details == {"from": "admin", "to": "cx_manager"}


def test_deactivation_signs_the_member_out_at_once_and_reactivation_lets_them_back(org_a, make_member, client_for):
    admin = make_member(org_a, Role.ADMIN)
    agent = make_member(org_a, Role.AGENT)
    agent_browser = client_for(agent)
    second_device = client_for(agent)
    assert agent_browser.get("/customers/").status_code == 200

    response = client_for(admin).post(f"/settings/members/{membership(agent, org_a).pk}/deactivate/")
    assert response.status_code == 302
    assert not membership(agent, org_a).is_active
    for browser in (agent_browser, second_device):
        refused = browser.get("/customers/")
        assert refused.status_code == 302 and refused.url.startswith("/login/")
        assert "_auth_user_id" not in browser.session
    # The API's session authentication ends too.
    assert agent_browser.get("/api/v1/customers/").status_code in (401, 403)
    # Signing in again finds no organization to act in.
    again = Client()
    assert again.post("/login/", {"username": agent.username, "password": "x-pass-123456"}).status_code == 302
    assert again.get("/customers/").status_code == 403
    [entry] = actions(org_a, AuditAction.MEMBER_DEACTIVATED)
    assert entry.actor == admin and entry.target_id == str(membership(agent, org_a).pk)

    assert client_for(admin).post(f"/settings/members/{membership(agent, org_a).pk}/reactivate/").status_code == 302
    assert membership(agent, org_a).is_active
    assert client_for(agent).get("/customers/").status_code == 200
    assert len(actions(org_a, AuditAction.MEMBER_REACTIVATED)) == 1
    # The admin's own session was never touched.
    assert client_for(admin).get("/settings/members/").status_code == 200


def test_a_deactivated_member_of_two_organizations_keeps_the_other(org_a, org_b, make_member, client_for):
    admin = make_member(org_a, Role.ADMIN)
    person = make_member(org_a, Role.AGENT)
    Membership.objects.create(user=person, organization=org_b, role=Role.AGENT)
    client_for(admin).post(f"/settings/members/{membership(person, org_a).pk}/deactivate/")
    # Signed out everywhere; signing in again, they work in Beta and cannot switch to Alpha.
    browser = client_for(person)
    assert browser.get("/").context["current_organization"] == org_b
    browser.post("/organization/switch/", {"organization": "alpha", "next": "/"})
    assert browser.get("/").context["current_organization"] == org_b
