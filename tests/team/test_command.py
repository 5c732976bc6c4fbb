"""`manage.py create_organization`: a fresh install's first organization and its administrator."""

from io import StringIO

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from cxplatform.audit import AuditAction
from cxplatform.models import Membership, Organization, Role
from tests.team.helpers import actions, link_in, path_of

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "Scooter-lane-42"


def create(*args) -> str:
    out = StringIO()
    call_command("create_organization", *args, stdout=out)
    return out.getvalue()


def test_creates_the_organization_an_admin_and_a_one_time_link(settings):
    settings.SITE_URL = "https://cx.example.com"
    out = create("--name", "Gamma Rides", "--admin-email", "Ops@Gamma.example", "--language", "lv")

    org = Organization.objects.get(slug="gamma-rides")
    assert org.name == "Gamma Rides" and org.default_language == "lv"
    admin = get_user_model().objects.get(email="Ops@Gamma.example")
    assert not admin.has_usable_password()
    membership = Membership.objects.get(organization=org, user=admin)
    assert membership.role == Role.ADMIN and membership.is_active
    [entry] = actions(org, AuditAction.ORGANIZATION_CREATED)
    assert entry.details["admin"] == "Ops@Gamma.example" and entry.actor_label == "manage.py create_organization"

    link = link_in(out)
    assert link.startswith("https://cx.example.com/account/welcome/")
    browser = Client()
    form_page = browser.get(path_of(link), follow=True)
    assert b"Set your password" in form_page.content
    done = browser.post(form_page.redirect_chain[-1][0],
                        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302 and done.url == "/"
    # Signed in as the new admin, on their organization's members page.
    assert browser.get("/settings/members/").status_code == 200
    admin.refresh_from_db()
    assert admin.check_password(NEW_PASSWORD)
    assert [e.details for e in actions(org, AuditAction.PASSWORD_CHANGED)] == [{"how": "first_sign_in"}]

    # The link works once: the password and the sign-in it made are part of its hash.
    again = Client().get(path_of(link), follow=True)
    assert b"This sign-in link cannot be used" in again.content


def test_the_link_lasts_a_day(settings):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        out = create("--name", "Delta", "--admin-email", "a@delta.example", "--base-url", "http://cx.test")
        clock.shift(23 * 3600)
        assert b"Set your password" in Client().get(path_of(link_in(out)), follow=True).content
        clock.shift(2 * 3600)
        assert b"This sign-in link cannot be used" in Client().get(path_of(link_in(out)), follow=True).content


def test_reuses_an_existing_account_and_a_given_slug(org_a, make_member):
    existing = make_member(org_a, Role.VIEWER)
    existing.email = "lead@alpha.example"
    existing.save()
    create("--name", "Alpha Labs", "--admin-email", "LEAD@alpha.example", "--slug", "alpha-labs")
    labs = Organization.objects.get(slug="alpha-labs")
    assert Membership.objects.get(organization=labs).user == existing
    assert get_user_model().objects.filter(email__iexact="lead@alpha.example").count() == 1


def test_refuses_a_taken_slug_and_bad_input(org_a):
    with pytest.raises(CommandError, match="already exists"):
        create("--name", "Other", "--admin-email", "x@y.example", "--slug", "alpha")
    with pytest.raises(CommandError):
        create("--name", "Other", "--admin-email", "not-an-address")
    with pytest.raises(CommandError):
        create("--name", "Other", "--admin-email", "x@y.example", "--language", "de")
    assert Organization.objects.count() == 1
    assert not get_user_model().objects.filter(email="x@y.example").exists()
