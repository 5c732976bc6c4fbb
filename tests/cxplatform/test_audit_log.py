"""The audit log is append-only: no path through the platform, nor a raw query, changes an entry."""

from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory
from django.utils import timezone

from cxplatform import audit
from cxplatform.models import AuditEntry, Role


@pytest.fixture
def entry(org_a, make_member):
    admin = make_member(org_a, Role.ADMIN, username="ilze")
    request = RequestFactory().get("/", HTTP_USER_AGENT="Firefox", REMOTE_ADDR="203.0.113.9")
    request.user = admin
    return audit.record(action=audit.AuditAction.ROLE_CHANGED, organization=org_a, request=request,
                        target=admin, details={"from": "agent", "to": "admin"})


def test_an_entry_says_who_what_when_and_from_where(entry):
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert (stored.actor_label, stored.action, stored.ip_address, stored.user_agent) == (
        "ilze", "member.role_changed", "203.0.113.9", "Firefox")
    assert stored.target_type == "auth.user" and stored.details == {"from": "agent", "to": "admin"}


def test_unknown_actions_are_refused(org_a):
    with pytest.raises(ValueError):
        audit.record(action="member.renamed", organization=org_a)


def test_the_model_and_its_queryset_refuse_edits_and_deletes(entry):
    entry.action = audit.AuditAction.SIGNED_IN
    for attempt in (entry.save, entry.delete, lambda: AuditEntry.objects.filter(pk=entry.pk).update(action="x"),
                    lambda: AuditEntry.objects.filter(pk=entry.pk).delete()):
        with pytest.raises(PermissionError):
            attempt()
    assert AuditEntry.objects.get(pk=entry.pk).action == "member.role_changed"


@pytest.mark.parametrize("statement", ["UPDATE cxplatform_auditentry SET action = 'x'",
                                       "DELETE FROM cxplatform_auditentry"])
def test_postgresql_refuses_a_raw_update_or_delete(entry, statement):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert AuditEntry.objects.get(pk=entry.pk).action == "member.role_changed"


def test_the_retention_purge_removes_only_expired_entries(org_a, settings):
    settings.AUDIT_RETENTION_DAYS = 30
    now = timezone.now()
    old = AuditEntry.objects.create(organization=org_a, action="auth.signed_in", created_at=now - timedelta(days=31))
    kept = AuditEntry.objects.create(organization=org_a, action="auth.signed_in", created_at=now - timedelta(days=29))
    assert audit.purge_expired(now) == 1
    assert list(AuditEntry.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not AuditEntry.objects.filter(pk=old.pk).exists()
    # The purge's permission ended with its transaction.
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM cxplatform_auditentry")
