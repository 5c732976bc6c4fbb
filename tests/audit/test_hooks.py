"""What the platform records where it happens: sign-ins, failures and sign-outs; every settings
change (field: old → new); exports and downloads of customers' personal data."""

import pytest
from django.test import Client
from django.urls import reverse

from cxplatform import audit
from cxplatform.audit import AuditAction
from cxplatform.models import AuditEntry, Membership, Role
from feedback.models import CloseLoopRule, RoutingRule, SlaPolicy
from invitations.models import Suppression
from surveys.models import ExportJob
from tests.surveys.test_responses import csi, exported  # noqa: F401  fixtures

pytestmark = pytest.mark.django_db
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0 Safari/537.36"


def entries(action, **filters):
    return list(AuditEntry.objects.filter(action=action, **filters).order_by("id"))


# --- Signing in and out --------------------------------------------------------------------------

@pytest.fixture
def ilze(org_a, org_b, django_user_model):
    user = django_user_model.objects.create_user(username="ilze", password="right-pass-8271", email="ilze@a.example")
    Membership.objects.create(user=user, organization=org_a, role=Role.AGENT)
    Membership.objects.create(user=user, organization=org_b, role=Role.ADMIN)
    return user


def test_a_sign_in_is_recorded_in_the_organization_the_session_works_in(ilze, org_a):
    client = Client(HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="198.51.100.7")
    assert client.post("/login/", {"username": "ilze", "password": "right-pass-8271"}).status_code == 302
    [entry] = entries(AuditAction.SIGNED_IN)
    assert (entry.organization, entry.actor, entry.ip_address) == (org_a, ilze, "198.51.100.7")
    assert entry.user_agent == BROWSER and entry.actor_label == "ilze <ilze@a.example>"


def test_a_failed_sign_in_of_a_member_is_recorded_in_each_of_their_organizations(ilze, org_a, org_b):
    client = Client(REMOTE_ADDR="198.51.100.8")
    assert client.post("/login/", {"username": "ILZE", "password": "guess-123"}).status_code == 400
    failed = entries(AuditAction.SIGN_IN_FAILED)
    assert {e.organization for e in failed} == {org_a, org_b}
    for entry in failed:
        assert entry.actor is None and entry.actor_label == "ILZE" and entry.target_id == str(ilze.pk)
        assert entry.ip_address == "198.51.100.8" and entry.details == {}
    assert not entries(AuditAction.SIGNED_IN)


def test_a_failed_sign_in_of_an_unknown_name_belongs_to_no_organization(db, client_for, org_a, make_member):
    Client().post("/login/", {"username": "mallory-probe", "password": "guess-123"})
    [entry] = entries(AuditAction.SIGN_IN_FAILED)
    assert entry.organization is None and entry.actor_label == "mallory-probe" and entry.target_id == ""
    # No admin's page shows what strangers typed.
    page = client_for(make_member(org_a, Role.ADMIN)).get("/settings/audit/")
    assert "mallory-probe" not in page.content.decode()


def test_the_name_tried_is_cut(db):
    from cxplatform import audit_hooks

    # The login form refuses a long name before authenticating; another backend's caller may not.
    audit_hooks.sign_in_failed(sender=None, credentials={"username": "x" * 5000, "password": "********"})
    [entry] = entries(AuditAction.SIGN_IN_FAILED)
    assert entry.actor_label == entry.target_label == "x" * 150


def test_a_sign_out_is_recorded(ilze, org_a, org_b, client_for):
    client = client_for(ilze)
    client.post("/organization/switch/", {"organization": org_b.slug})
    assert client.post("/logout/").status_code in (200, 302)
    [entry] = entries(AuditAction.SIGNED_OUT)
    assert (entry.organization, entry.actor) == (org_b, ilze)


# --- Settings --------------------------------------------------------------------------------------

@pytest.fixture
def admin(org_a, make_member, client_for):
    user = make_member(org_a, Role.ADMIN, username="admin")
    return client_for(user)


def details(entry):
    return entry.details, entry.target_type, entry.target_label


def test_routing_rules_created_changed_and_deleted_on_the_settings_page(admin, org_a):
    assert admin.post("/inbox/settings/rules/new/", {"name": "Refunds", "position": "1", "active": "on",
                                                     "keywords": "refund"}).status_code == 302
    rule = RoutingRule.objects.get()
    assert admin.post(f"/inbox/settings/rules/{rule.pk}/", {"name": "Refunds", "position": "4", "keywords": "refund",
                                                            "version": rule.version}).status_code == 302
    # Saved unchanged: nothing to record.
    rule.refresh_from_db()
    assert admin.post(f"/inbox/settings/rules/{rule.pk}/", {"name": "Refunds", "position": "4", "keywords": "refund",
                                                            "version": rule.version}).status_code == 302
    assert admin.post(f"/inbox/settings/rules/{rule.pk}/delete/").status_code == 302
    created, changed, deleted = entries(AuditAction.SETTINGS_CHANGED, organization=org_a)
    assert created.details == {"setting": "feedback.routingrule", "change": "created", "changes": {}}
    assert changed.details["changes"] == {"position": [1, 4], "active": [True, False]}
    assert deleted.details["change"] == "deleted" and deleted.target_id == str(rule.pk)
    assert {e.target_label for e in (created, changed, deleted)} == {"Refunds"}
    assert sorted(audit.describe(changed)) == ["Active: yes → no", "Order: 1 → 4", "Routing rule: changed"]


def test_a_refused_setting_records_nothing(admin, org_a):
    assert admin.post("/inbox/settings/rules/new/", {"name": "", "position": "x"}).status_code == 400
    assert not entries(AuditAction.SETTINGS_CHANGED)


def test_sla_policies_and_close_loop_rules_changed_through_the_page(admin, org_a):
    assert admin.post("/inbox/settings/sla/new/", {
        "priority": "1", "first_response_hours": "4", "resolution_hours": "24", "business_hours": "on",
        "day_start": "09:00", "day_end": "18:00", "time_zone": "Europe/Riga",
        "warn_before_minutes": "60"}).status_code == 302
    policy = SlaPolicy.objects.get()
    assert admin.post(f"/inbox/settings/sla/{policy.pk}/", {
        "priority": "1", "first_response_hours": "2", "resolution_hours": "24", "business_hours": "on",
        "day_start": "09:00", "day_end": "18:00", "time_zone": "Europe/Riga", "warn_before_minutes": "60",
        "version": policy.version}).status_code == 302
    rule = CloseLoopRule.objects.create(organization=org_a, name="Detractors", band="detractor")
    assert admin.post(f"/inbox/settings/loop/{rule.pk}/delete/").status_code == 302
    created, changed, deleted = entries(AuditAction.SETTINGS_CHANGED)
    assert (created.details["setting"], created.details["change"]) == ("feedback.slapolicy", "created")
    assert changed.details["changes"] == {"first_response_hours": [4, 2]}
    assert "First response within (hours): 4 → 2" in audit.describe(changed)
    assert (deleted.details["setting"], deleted.details["change"], deleted.target_label) == (
        "feedback.closelooprule", "deleted", "Detractors")


def test_the_api_records_the_same(org_a, make_member, api_headers):
    user = make_member(org_a, Role.ADMIN)
    client = Client(**api_headers(user, org_a))
    made = client.post("/api/v1/feedback/sla-policies/", {"priority": 2, "first_response_hours": 8,
                                                          "resolution_hours": 48}, content_type="application/json")
    assert made.status_code == 201, made.content
    url = f"/api/v1/feedback/sla-policies/{made.json()['id']}/"
    assert client.patch(url, {"resolution_hours": 72}, content_type="application/json").status_code == 200
    assert client.delete(url).status_code == 204
    created, changed, deleted = entries(AuditAction.SETTINGS_CHANGED)
    assert [e.details["change"] for e in (created, changed, deleted)] == ["created", "changed", "deleted"]
    assert changed.details["changes"] == {"resolution_hours": [48, 72]} and changed.actor == user
    assert {e.organization for e in (created, changed, deleted)} == {org_a}


def test_a_setting_still_in_use_is_kept_and_nothing_is_recorded(admin, org_a):
    from feedback.models import RootCause

    parent = RootCause.objects.create(organization=org_a, name="Delivery")
    RootCause.objects.create(organization=org_a, name="Late", parent=parent)  # protects its parent
    assert admin.post(f"/inbox/settings/causes/{parent.pk}/delete/").status_code == 302
    assert RootCause.objects.filter(pk=parent.pk).exists()
    assert not entries(AuditAction.SETTINGS_CHANGED)  # the entry went with the rolled-back deletion


def test_the_contact_policy(admin, org_a):
    version = admin.get("/surveys/contact-policy/").context["form"].initial["version"]
    assert admin.post("/surveys/contact-policy/", {"enabled": "on", "min_days_between_surveys": "14",
                                                   "version": version}).status_code == 302
    assert admin.post("/surveys/contact-policy/", {"enabled": "on", "min_days_between_surveys": "-3",
                                                   "version": version + 1}).status_code == 400
    [entry] = entries(AuditAction.SETTINGS_CHANGED)
    assert entry.details == {"setting": "surveys.contactpolicy", "change": "changed",
                             "changes": {"min_days_between_surveys": [30, 14]}}
    assert audit.describe(entry) == ["Contact policy: changed", "Ask at most once per (days): 30 → 14"]


def test_the_sending_settings_with_the_time_zone(admin, org_a):
    url = reverse("invitations:sending_settings")
    assert admin.post(url, {"messages_per_minute": "120", "from_name": "Alpha", "reply_to": "cx@alpha.example",
                            "time_zone": "Europe/Riga"}).status_code == 302
    assert admin.post(url, {"messages_per_minute": "60", "from_name": "Alpha", "reply_to": "cx@alpha.example",
                            "time_zone": "Europe/Riga"}).status_code == 302
    first, second = entries(AuditAction.SETTINGS_CHANGED)
    assert first.details["changes"] == {"messages_per_minute": [None, 120], "from_name": [None, "Alpha"],
                                        "reply_to": [None, "cx@alpha.example"], "time_zone": ["UTC", "Europe/Riga"]}
    assert second.details["changes"] == {"messages_per_minute": [120, 60]}


def test_the_suppression_list(admin, org_a):
    url = reverse("invitations:suppression_list")
    assert admin.post(url, {"address": "Gone@X.example"}).status_code == 302
    assert admin.post(url, {"address": "gone@x.example"}).status_code == 302  # already there: no change
    entry = Suppression.objects.get()
    admin.post(reverse("invitations:suppression_delete", args=[entry.pk]))
    added, removed = entries(AuditAction.SETTINGS_CHANGED)
    assert [e.details["change"] for e in (added, removed)] == ["created", "deleted"]
    assert {e.target_label for e in (added, removed)} == {"gone@x.example"}
    assert audit.describe(added) == ["Suppression list: created"]


# --- Personal data leaving the platform -----------------------------------------------------------

def test_a_streamed_export_with_personal_data_is_recorded(org_a, make_member, client_for, exported):  # noqa: F811
    survey = exported["survey"]
    manager = client_for(make_member(org_a, Role.CX_MANAGER))
    assert manager.get(f"/surveys/{survey.pk}/responses/export.csv?language=en").status_code == 200
    [entry] = entries(AuditAction.PERSONAL_DATA_EXPORTED)
    assert entry.organization == org_a and entry.target_label == str(survey)
    assert entry.details == {"format": "csv", "filters": "language=en"}
    # A viewer's export carries pseudonyms only: nothing personal left.
    viewer = client_for(make_member(org_a, Role.VIEWER))
    assert viewer.get(f"/surveys/{survey.pk}/responses/export.xlsx").status_code == 200
    assert len(entries(AuditAction.PERSONAL_DATA_EXPORTED)) == 1


def test_an_export_job_and_its_download_are_recorded(org_a, make_member, client_for, exported, settings,  # noqa: F811
                                                     tmp_path, django_capture_on_commit_callbacks):
    from surveys import export_jobs

    settings.MEDIA_ROOT = tmp_path
    settings.EXPORT_STREAM_MAX_ROWS = 2
    survey = exported["survey"]
    manager = client_for(make_member(org_a, Role.CX_MANAGER))
    assert manager.post(f"/surveys/{survey.pk}/responses/export.csv").status_code == 302
    job = ExportJob.objects.get()
    export_jobs.run_job(job_id=job.pk)
    [started] = entries(AuditAction.PERSONAL_DATA_EXPORTED)
    assert started.details == {"format": "csv", "filters": "", "job": job.pk}
    assert not entries(AuditAction.PERSONAL_DATA_DOWNLOADED)
    download = manager.get(f"/surveys/{survey.pk}/exports/{job.pk}/download")
    assert download.status_code == 200
    [downloaded] = entries(AuditAction.PERSONAL_DATA_DOWNLOADED)
    assert downloaded.details == {"format": "csv", "job": job.pk} and downloaded.organization == org_a


def test_a_pseudonymous_export_job_records_nothing(org_a, make_member, client_for, exported, settings,  # noqa: F811
                                                   tmp_path):
    from surveys import export_jobs

    settings.MEDIA_ROOT = tmp_path
    settings.EXPORT_STREAM_MAX_ROWS = 2
    survey = exported["survey"]
    viewer = client_for(make_member(org_a, Role.VIEWER))
    assert viewer.post(f"/surveys/{survey.pk}/responses/export.csv").status_code == 302
    job = ExportJob.objects.get()
    export_jobs.run_job(job_id=job.pk)
    assert viewer.get(f"/surveys/{survey.pk}/exports/{job.pk}/download").status_code == 200
    assert not entries(AuditAction.PERSONAL_DATA_EXPORTED) and not entries(AuditAction.PERSONAL_DATA_DOWNLOADED)
