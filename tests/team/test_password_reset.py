"""Password reset by e-mail: the link works once, the rules are Django's, requests are rate limited."""

import pytest
from django.core import mail
from django.test import Client

from cxplatform.audit import AuditAction
from cxplatform.models import Membership, Role
from tests.team.helpers import actions, last_mail_to, link_in, path_of

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "Handlebar-sunrise-77"


@pytest.fixture
def person(org_a, org_b, make_member):
    user = make_member(org_a, Role.AGENT)
    user.email = "rita@alpha.example"
    user.save()
    Membership.objects.create(user=user, organization=org_b, role=Role.VIEWER)
    return user


def test_the_login_page_offers_it():
    assert b'href="/account/password-reset/"' in Client().get("/login/").content


def test_reset_with_the_link_in_the_email(person, org_a, org_b, settings, client_for):
    settings.SITE_URL = "https://cx.example.com"
    old_session = client_for(person)
    browser = Client()
    sent = browser.post("/account/password-reset/", {"email": "RITA@alpha.example"})
    assert sent.status_code == 302 and sent.url == "/account/password-reset/sent/"
    message = last_mail_to("rita@alpha.example")
    link = link_in(message)
    assert link.startswith("https://cx.example.com/account/password-reset/")
    assert person.username in message.body

    form = browser.get(path_of(link), follow=True)
    assert b"Choose a new password" in form.content
    set_url = form.redirect_chain[-1][0]
    weak = browser.post(set_url, {"new_password1": "password", "new_password2": "password"})
    assert weak.status_code == 400 and b"too common" in weak.content
    done = browser.post(set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302 and done.url == "/account/password-reset/done/"
    person.refresh_from_db()
    assert person.check_password(NEW_PASSWORD)
    # Sessions signed in with the old password end (Django's session hash).
    assert old_session.get("/customers/").status_code == 302
    # The link works once.
    assert b"This link cannot be used" in Client().get(path_of(link), follow=True).content
    # Recorded in every organization the person works in.
    for org in (org_a, org_b):
        assert len(actions(org, AuditAction.PASSWORD_RESET_REQUESTED)) == 1
        [changed] = actions(org, AuditAction.PASSWORD_CHANGED)
        assert changed.actor == person and changed.details == {"how": "reset"}


def test_an_unknown_address_looks_the_same_and_sends_nothing(person):
    response = Client().post("/account/password-reset/", {"email": "nobody@nowhere.example"})
    assert response.status_code == 302 and response.url == "/account/password-reset/sent/"
    assert mail.outbox == []
    bad = Client().post("/account/password-reset/", {"email": "not-an-address"})
    assert bad.status_code == 400


def test_requests_are_rate_limited_per_address_and_per_client(person, org_a, settings):
    settings.PASSWORD_RESET_LIMIT_PER_EMAIL = 2
    settings.PASSWORD_RESET_LIMIT_PER_IP = 4
    browser = Client()
    for _ in range(2):
        assert browser.post("/account/password-reset/", {"email": "rita@alpha.example"}).status_code == 302
    refused = browser.post("/account/password-reset/", {"email": "rita@alpha.example"})
    assert refused.status_code == 429 and b"Too many requests" in refused.content
    assert len(mail.outbox) == 2 and len(actions(org_a, AuditAction.PASSWORD_RESET_REQUESTED)) == 2
    # Other addresses from the same client: until the client's own limit.
    assert browser.post("/account/password-reset/", {"email": "a@x.example"}).status_code == 302
    assert browser.post("/account/password-reset/", {"email": "b@x.example"}).status_code == 429
    # Another client is not held up by this one.
    other = Client(REMOTE_ADDR="10.1.2.3")
    assert other.post("/account/password-reset/", {"email": "c@x.example"}).status_code == 302
