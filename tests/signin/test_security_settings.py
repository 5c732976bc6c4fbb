"""/settings/security/: the SSO domains an organization lists, and the role they give."""

import pytest

from cxplatform.audit import AuditAction
from cxplatform.models import AuditEntry, Role
from cxplatform.signin.models import SSODomain

pytestmark = pytest.mark.django_db


def test_an_admin_lists_and_removes_a_domain(org_a, make_member, client_for):
    client = client_for(make_member(org_a, Role.ADMIN))
    answer = client.post("/settings/security/", {"action": "add_domain", "domain": " @Alpha.Example ",
                                                 "role": Role.CX_MANAGER})
    assert answer.status_code == 302
    rule = SSODomain.objects.get(organization=org_a)
    assert (rule.domain, rule.role) == ("alpha.example", Role.CX_MANAGER)
    added = AuditEntry.objects.get(action=AuditAction.SETTINGS_CHANGED)
    assert added.details == {"section": "security", "sso_domain_added": "alpha.example", "role": "cx_manager"}
    assert "alpha.example" in client.get("/settings/security/").content.decode()

    assert client.post(f"/settings/security/domains/{rule.pk}/remove/").status_code == 302
    assert not SSODomain.objects.exists()
    removed = AuditEntry.objects.filter(action=AuditAction.SETTINGS_CHANGED).order_by("-id").first()
    assert removed.details == {"section": "security", "sso_domain_removed": "alpha.example"}


@pytest.mark.parametrize("domain", ["", "not a domain", "alpha", "a..example", "-x.example", "x" * 300, "a\x00.com"])
def test_a_bad_domain_is_refused_and_changes_nothing(domain, org_a, make_member, client_for):
    client = client_for(make_member(org_a, Role.ADMIN))
    answer = client.post("/settings/security/", {"action": "add_domain", "domain": domain, "role": Role.VIEWER})
    assert answer.status_code == 400
    assert 'role="alert"' in answer.content.decode()
    assert not SSODomain.objects.exists() and not AuditEntry.objects.exists()


def test_a_bad_role_is_refused(org_a, make_member, client_for):
    client = client_for(make_member(org_a, Role.ADMIN))
    answer = client.post("/settings/security/", {"action": "add_domain", "domain": "alpha.example", "role": "owner"})
    assert answer.status_code == 400 and not SSODomain.objects.exists()


def test_a_domain_belongs_to_one_organization_only(org_a, org_b, make_member, client_for):
    SSODomain.objects.create(organization=org_b, domain="shared.example")
    client = client_for(make_member(org_a, Role.ADMIN))
    answer = client.post("/settings/security/", {"action": "add_domain", "domain": "Shared.example",
                                                 "role": Role.VIEWER})
    assert answer.status_code == 400
    assert "already listed by an organization" in answer.content.decode()
    assert not SSODomain.objects.filter(organization=org_a).exists()
    # Another organization's domains are not shown.
    assert "shared.example" not in client.get("/settings/security/").content.decode()


@pytest.mark.parametrize("role", [Role.CX_MANAGER, Role.AGENT, Role.VIEWER])
def test_only_admins_open_the_security_settings(role, org_a, make_member, client_for):
    client = client_for(make_member(org_a, role))
    assert client.get("/settings/security/").status_code == 403
    assert client.post("/settings/security/", {"action": "two_factor", "require_two_factor": "on"}).status_code == 403
    org_a.refresh_from_db()
    assert not org_a.require_two_factor


def test_an_admin_without_two_factor_cannot_require_it_of_everyone(org_a, make_member, client_for):
    client = client_for(make_member(org_a, Role.ADMIN))
    answer = client.post("/settings/security/", {"action": "two_factor", "require_two_factor": "on"})
    assert answer.status_code == 400
    assert "Turn on two-factor sign-in for yourself first" in answer.content.decode()
    org_a.refresh_from_db()
    assert not org_a.require_two_factor and not AuditEntry.objects.exists()


def test_a_form_without_a_known_action_changes_nothing(org_a, make_member, client_for):
    client = client_for(make_member(org_a, Role.ADMIN))
    answer = client.post("/settings/security/", {"action": "other", "require_two_factor": "on",
                                                 "domain": "alpha.example", "role": Role.VIEWER})
    assert answer.status_code == 400
    org_a.refresh_from_db()
    assert not org_a.require_two_factor and not SSODomain.objects.exists()
