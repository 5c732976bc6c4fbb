"""An invitation's life: sent, accepted once, expired, withdrawn, resent, or opened by the wrong person."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from cxplatform.audit import AuditAction
from cxplatform.models import Membership, Role
from cxplatform.team.models import MemberInvitation
from tests.team.helpers import actions, last_mail_to, link_in, path_of

pytestmark = pytest.mark.django_db
PASSWORD = "Kick-scooter-2031"


@pytest.fixture
def admin(org_a, make_member):
    user = make_member(org_a, Role.ADMIN)
    user.first_name, user.email = "Anna", "anna@alpha.example"
    user.save()
    return user


def invite(client, email="ivars@colleague.example", role=Role.AGENT):
    return client.post("/settings/members/invite/", {"email": email, "role": role})


def accept_new(link, **overrides):
    data = {"first_name": "Ivars", "last_name": "Kalniņš", "password1": PASSWORD, "password2": PASSWORD}
    browser = Client()
    return browser, browser.post(path_of(link), {**data, **overrides})


def test_a_new_person_accepts_once(org_a, admin, client_for, settings):
    settings.SITE_URL = "https://cx.example.com"
    response = invite(client_for(admin))
    assert response.status_code == 302
    message = last_mail_to("ivars@colleague.example")
    assert "Alpha Scooters" in message.subject and "Anna" in message.body
    link = link_in(message)
    assert link.startswith("https://cx.example.com/account/invitation/")
    token = path_of(link).rstrip("/").rsplit("/", 1)[1]
    invitation = MemberInvitation.objects.get()
    # Only a hash of the secret is stored.
    assert token not in invitation.token_hash and len(invitation.token_hash) == 64

    page = Client().get(path_of(link))
    assert page.status_code == 200 and b"Join Alpha Scooters" in page.content
    browser, accepted = accept_new(link)
    assert accepted.status_code == 302
    membership = Membership.objects.get(organization=org_a, user__email="ivars@colleague.example")
    assert membership.role == Role.AGENT and membership.is_active
    assert membership.user.first_name == "Ivars" and membership.user.check_password(PASSWORD)
    # Signed in, in the organization that invited them.
    assert browser.get("/customers/").status_code == 200

    # The link is spent: a second use is refused and makes nothing.
    _again, reused = accept_new(link)
    assert reused.status_code == 410 and b"already been used" in reused.content
    assert Membership.objects.filter(organization=org_a).count() == 2
    [invited] = actions(org_a, AuditAction.MEMBER_INVITED)
    assert invited.details["email"] == "ivars@colleague.example" and invited.actor == admin
    [joined] = actions(org_a, AuditAction.INVITATION_ACCEPTED)
    assert joined.actor == membership.user and joined.details["new_account"] is True


def test_passwords_follow_djangos_rules(org_a, admin, client_for):
    invite(client_for(admin))
    link = link_in(last_mail_to("ivars@colleague.example"))
    _browser, weak = accept_new(link, password1="12345678", password2="12345678")
    assert weak.status_code == 400 and b"too common" in weak.content
    _browser, differ = accept_new(link, password2=PASSWORD + "x")
    assert differ.status_code == 400 and b"The two passwords differ" in differ.content
    assert not Membership.objects.filter(user__email="ivars@colleague.example").exists()
    assert MemberInvitation.objects.get().accepted_at is None


def test_an_expired_invitation_is_refused_and_a_resend_renews_it(org_a, admin, client_for, settings):
    settings.MEMBER_INVITATION_DAYS = 3
    with time_machine.travel(timezone.now(), tick=False) as clock:
        invite(client_for(admin))
        old_link = link_in(last_mail_to("ivars@colleague.example"))
        clock.shift(timedelta(days=3, seconds=1))
        _browser, late = accept_new(old_link)
        assert late.status_code == 410 and b"has expired" in late.content
        assert b"Expired" in client_for(admin).get("/settings/members/").content

        invitation = MemberInvitation.objects.get()
        assert client_for(admin).post(f"/settings/members/invitations/{invitation.pk}/resend/").status_code == 302
        new_link = link_in(last_mail_to("ivars@colleague.example"))
        assert new_link != old_link
        # The old link stays dead; the new one works.
        assert Client().get(path_of(old_link)).status_code == 410
        _browser, accepted = accept_new(new_link)
        assert accepted.status_code == 302
    assert [e.details.get("resent") for e in actions(org_a, AuditAction.MEMBER_INVITED)] == [None, True]


def test_a_withdrawn_invitation_is_refused(org_a, admin, client_for):
    invite(client_for(admin))
    link = link_in(last_mail_to("ivars@colleague.example"))
    invitation = MemberInvitation.objects.get()
    assert client_for(admin).post(f"/settings/members/invitations/{invitation.pk}/revoke/").status_code == 302
    _browser, refused = accept_new(link)
    assert refused.status_code == 410 and b"withdrawn" in refused.content
    assert not Membership.objects.filter(user__email="ivars@colleague.example").exists()
    [entry] = actions(org_a, AuditAction.INVITATION_REVOKED)
    assert entry.details == {"email": "ivars@colleague.example", "role": "agent"}
    # Withdrawn twice: refused clearly, nothing recorded again.
    again = client_for(admin).post(f"/settings/members/invitations/{invitation.pk}/revoke/")
    assert again.status_code == 400 and len(actions(org_a, AuditAction.INVITATION_REVOKED)) == 1


def test_a_made_up_token_is_refused(db):
    response = Client().get("/account/invitation/not-a-real-token/")
    assert response.status_code == 410 and b"not valid" in response.content


def test_the_wrong_person_cannot_accept(org_a, org_b, admin, client_for, make_member):
    invite(client_for(admin))
    link = link_in(last_mail_to("ivars@colleague.example"))
    someone = make_member(org_b, Role.VIEWER)
    someone.email = "someone@beta.example"
    someone.save()
    intruder = client_for(someone)
    page = intruder.get(path_of(link))
    assert page.status_code == 403 and b"ivars@colleague.example" in page.content
    assert intruder.post(path_of(link)).status_code == 403
    assert not Membership.objects.filter(organization=org_a, user=someone).exists()
    assert MemberInvitation.objects.get().accepted_at is None


def test_an_existing_account_signs_in_and_joins_then_switches(org_a, org_b, client_for, make_member):
    """A person of another organization (a viewer there) is invited here, joins, and switches."""
    beta_admin = make_member(org_b, Role.ADMIN)
    person = make_member(org_a, Role.VIEWER)
    person.email = "Marta@Alpha.example"
    person.save()
    invite(client_for(beta_admin), email="marta@alpha.example", role=Role.CX_MANAGER)
    link = link_in(last_mail_to("marta@alpha.example"))

    anonymous = Client().get(path_of(link))
    assert anonymous.status_code == 200 and b"Sign in to accept" in anonymous.content
    assert b"/login/?next=%2Faccount%2Finvitation%2F" in anonymous.content
    # No new account can be made for an address that has one.
    _browser, refused = accept_new(link)
    assert refused.status_code == 400
    assert not Membership.objects.filter(organization=org_b, user=person).exists()

    browser = client_for(person)
    assert b"Join Beta Bikes" in browser.get(path_of(link)).content
    assert browser.post(path_of(link)).status_code == 302
    membership = Membership.objects.get(organization=org_b, user=person)
    assert membership.role == Role.CX_MANAGER
    [entry] = actions(org_b, AuditAction.INVITATION_ACCEPTED)
    assert entry.details["new_account"] is False

    # Now in Beta (the invitation chose it); the switcher goes back to Alpha and again to Beta.
    beta_only = client_for(beta_admin).get("/settings/members/")
    assert beta_only.status_code == 200
    assert browser.get("/").context["current_organization"] == org_b
    browser.post("/organization/switch/", {"organization": "alpha", "next": "/"})
    assert browser.get("/").context["current_organization"] == org_a
    browser.post("/organization/switch/", {"organization": "beta", "next": "/"})
    assert browser.get("/").context["current_organization"] == org_b


def test_inviting_a_member_or_an_invited_address_again_is_refused(org_a, admin, client_for, make_member):
    colleague = make_member(org_a, Role.AGENT)
    colleague.email = "olga@alpha.example"
    colleague.save()
    client = client_for(admin)
    member = invite(client, email="OLGA@alpha.example")
    assert member.status_code == 400 and b"already a member" in member.content
    assert invite(client, email="new@x.example").status_code == 302
    twice = invite(client, email="New@X.example")
    assert twice.status_code == 400 and b"already been invited" in twice.content
    Membership.objects.filter(user=colleague).update(is_active=False)
    deactivated = invite(client, email="olga@alpha.example")
    assert deactivated.status_code == 400 and b"reactivate them" in deactivated.content
    bad = invite(client, email="not-an-address")
    assert bad.status_code == 400
    bad_role = invite(client, email="x@x.example", role="owner")
    assert bad_role.status_code == 400
    assert MemberInvitation.objects.count() == 1 and len(mail.outbox) == 1


def test_an_expired_invitation_may_be_replaced_by_a_new_one(org_a, admin, client_for):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        invite(client_for(admin))
        clock.shift(timedelta(days=8))
        assert invite(client_for(admin)).status_code == 302
    first, second = MemberInvitation.objects.order_by("id")
    assert first.revoked_at is not None and second.is_open


def test_sso_is_offered_when_enabled(org_a, admin, client_for, settings):
    invite(client_for(admin))
    link = path_of(link_in(last_mail_to("ivars@colleague.example")))
    assert b"Sign in with SSO" not in Client().get(link).content
    settings.SSO_ENABLED = True
    # Without the single sign-on part installed there is nowhere to send people: still no button.
    from django.urls import NoReverseMatch, reverse

    try:
        start = reverse("oidc_authentication_init")
    except NoReverseMatch:
        assert b"Sign in with SSO" not in Client().get(link).content
    else:
        page = Client().get(link).content.decode()
        assert "Sign in with SSO" in page and f"{start}?next=%2Faccount%2Finvitation%2F" in page
