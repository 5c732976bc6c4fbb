"""No one edits or deletes an entry through the platform: the Django admin is read-only, no URL
changes one, and only the retention purge — a daily beat task — removes entries."""

import contextlib
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib import admin as django_admin
from django.test import Client, RequestFactory
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from cxplatform.admin import AuditEntryAdmin
from cxplatform.audit import AuditAction
from cxplatform.celery import app as celery_app
from cxplatform.models import AuditEntry, Role
from cxplatform.tasks import purge_audit_log
from tests.urlwalk import routes

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(org_a):
    return AuditEntry.objects.create(organization=org_a, action=AuditAction.ROLE_CHANGED, actor_label="ilze",
                                     target_label="janis", details={"from": "agent", "to": "admin"})


def frozen(entry):
    return AuditEntry.objects.filter(pk=entry.pk).values().get()


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser(username="root", password="root-pass-7781",
                                                      email="root@example.com")


def test_the_django_admin_reads_but_never_adds_changes_or_deletes(entry, superuser, client_for):
    model_admin = django_admin.site._registry[AuditEntry]
    assert isinstance(model_admin, AuditEntryAdmin)
    request = RequestFactory().get("/")
    request.user = superuser
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, entry)
    assert not model_admin.has_delete_permission(request, entry)
    assert "delete_selected" not in model_admin.get_actions(request)

    before = frozen(entry)
    client = client_for(superuser)
    base = "/admin/cxplatform/auditentry/"
    assert client.get(base).status_code == 200 and "janis" in client.get(base).content.decode()
    assert client.get(f"{base}{entry.pk}/change/").status_code == 200  # a view-only page
    assert client.get(f"{base}add/").status_code == 403
    assert client.post(f"{base}add/", {"action": "auth.signed_in"}).status_code == 403
    assert client.post(f"{base}{entry.pk}/change/", {"action": "auth.signed_in"}).status_code == 403
    assert client.post(f"{base}{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    client.post(base, {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"})
    assert frozen(entry) == before


def test_no_url_of_the_platform_changes_or_deletes_an_entry(entry, org_a, make_member, superuser):
    """Every route, its arguments filled with the entry's id, sent every writing method, by an
    admin of the entry's organization and by a superuser: the entry stays as it was."""
    before = frozen(entry)
    clients = []
    for user in (make_member(org_a, Role.ADMIN), superuser):
        client = Client(raise_request_exception=False)
        client.force_login(user)
        clients.append(client)
    fields = {"action": "auth.signed_in", "actor_label": "x", "details": "{}", "target_label": "x"}
    paths = {"/admin/cxplatform/auditentry/", f"/admin/cxplatform/auditentry/{entry.pk}/change/",
             f"/admin/cxplatform/auditentry/{entry.pk}/delete/"}
    for route in routes():
        with contextlib.suppress(NoReverseMatch):  # a route whose arguments are not ids (tokens, slugs)
            paths.add(reverse(route.name, kwargs=dict.fromkeys(route.kwargs, str(entry.pk))))
    assert "/settings/audit/" in paths and len(paths) > 50
    for path in sorted(paths):
        if "logout" in path:
            continue
        for client in clients:
            client.post(path, fields)
            client.put(path, fields, content_type="application/json")
            client.patch(path, fields, content_type="application/json")
            client.delete(path)
    assert frozen(entry) == before
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_the_log_page_refuses_writing_methods(entry, org_a, make_member, client_for):
    client = client_for(make_member(org_a, Role.ADMIN))
    for method in (client.post, client.put, client.patch, client.delete):
        assert method("/settings/audit/").status_code == 405
        assert method("/settings/audit/export.csv").status_code == 405


def test_the_purge_task_removes_expired_entries_and_is_scheduled_daily(org_a, settings):
    settings.AUDIT_RETENTION_DAYS = 30
    now = timezone.now()
    old = AuditEntry.objects.create(organization=org_a, action=AuditAction.SIGNED_IN,
                                    created_at=now - timedelta(days=31))
    kept = AuditEntry.objects.create(organization=org_a, action=AuditAction.SIGNED_IN,
                                     created_at=now - timedelta(days=29))
    assert purge_audit_log.apply().get() == 1
    assert purge_audit_log.apply().get() == 0  # idempotent
    assert not AuditEntry.objects.filter(pk=old.pk).exists() and AuditEntry.objects.filter(pk=kept.pk).exists()


def test_the_beat_schedule_names_a_registered_daily_task():
    [(name, entry)] = [(n, e) for n, e in settings.CELERY_BEAT_SCHEDULE.items()
                       if e["task"] == "cxplatform.tasks.purge_audit_log"]
    assert entry["task"] in celery_app.tasks
    schedule = entry["schedule"]
    assert len(schedule.hour) == 1 and len(schedule.minute) == 1 and len(schedule.day_of_week) == 7
