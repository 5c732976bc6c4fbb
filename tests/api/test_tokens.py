"""API tokens: stored as a hash, shown once, scoped, expiring, revocable, ending with the member's
membership, acting for their own organization only; the old DRF tokens are gone."""

import importlib
import io
import re
from contextlib import redirect_stdout
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.utils import timezone

from cxplatform.audit import AuditAction
from cxplatform.models import ApiToken, AuditEntry, Membership, Role
from cxplatform.tokens import services
from tests import factories

pytestmark = pytest.mark.django_db

TOKEN_PATTERN = re.compile(r"cxp_[0-9a-f]{8}_[A-Za-z0-9_-]{40,}")


def call(raw, method="get", url="/api/v1/customers/", **extra):
    return getattr(Client(), method)(url, HTTP_AUTHORIZATION=f"Bearer {raw}", content_type="application/json",
                                     **extra)


def text_columns():
    with connection.cursor() as cursor:
        cursor.execute("""SELECT table_name, column_name FROM information_schema.columns
                          WHERE table_schema = current_schema()
                            AND data_type IN ('character varying', 'text', 'character', 'json', 'jsonb')""")
        return cursor.fetchall()


def rows_holding(needle: str) -> list[str]:
    """Every text column of every table that holds `needle` (a pg_dump-like scan)."""
    found = []
    with connection.cursor() as cursor:
        for table, column in text_columns():
            # Names from the catalog, quoted; the needle is a parameter.
            query = f'SELECT COUNT(*) FROM "{table}" WHERE strpos("{column}"::text, %s) > 0'  # noqa: S608
            cursor.execute(query, [needle])
            if cursor.fetchone()[0]:
                found.append(f"{table}.{column}")
    return found


def test_the_token_string_appears_nowhere_in_the_database(org_a, make_member, client_for):
    user = make_member(org_a, Role.CX_MANAGER)
    page = client_for(user).post("/settings/tokens/", {"name": "CRM sync", "scope": "write", "expires_on": ""})
    assert page.status_code == 200
    raw = TOKEN_PATTERN.search(page.content.decode()).group(0)
    secret = raw.split("_", 2)[2]
    assert call(raw).status_code == 200  # used once, so last_used_at and the like are written too
    assert len(text_columns()) > 50  # the scan really reads the schema
    assert rows_holding(raw) == [] and rows_holding(secret) == []
    token = ApiToken.objects.get()
    # Stored: the prefix (to recognise it) and the SHA-256 of the secret, never the secret.
    assert raw.startswith(f"cxp_{token.prefix}_") and token.hash == services.hash_secret(secret)
    assert rows_holding(token.prefix)  # the scan does find what is stored


def test_the_token_is_shown_once(org_a, make_member, client_for):
    client = client_for(make_member(org_a))
    created = client.post("/settings/tokens/", {"name": "Shop", "scope": "read"})
    raw = TOKEN_PATTERN.search(created.content.decode()).group(0)
    assert created["Cache-Control"] == "no-store"
    again = client.get("/settings/tokens/").content.decode()
    assert raw not in again and TOKEN_PATTERN.search(again) is None
    assert f"cxp_{ApiToken.objects.get().prefix}_…" in again


def test_a_read_token_only_reads_and_a_write_token_writes_within_the_role(org_a, make_member):
    manager = make_member(org_a, Role.CX_MANAGER)
    _t, read = services.create_token(user=manager, organization=org_a, name="BI", scopes=["read"])
    _t, write = services.create_token(user=manager, organization=org_a, name="CRM", scopes=["read", "write"])
    body = {"external_id": "C-1", "email": "c1@x.example"}
    assert call(read).status_code == 200
    refused = call(read, "post", data=body)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "permission_denied"
    assert "only read" in refused.json()["error"]["message"]
    assert call(write, "post", data=body).status_code == 201
    # The role still applies on top: a viewer's write token changes nothing.
    viewer = make_member(org_a, Role.VIEWER)
    _t, viewers = services.create_token(user=viewer, organization=org_a, name="V", scopes=["write"])
    assert call(viewers, "post", data={"external_id": "C-2"}).status_code == 403
    assert call(viewers, url="/api/v1/personas/").status_code == 200


def test_an_expired_token_is_refused_with_a_clear_401(org_a, make_member):
    user = make_member(org_a)
    _t, raw = services.create_token(user=user, organization=org_a, name="Pilot", scopes=["read"],
                                    expires_at=timezone.now() + timedelta(days=1))
    assert call(raw).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=1, seconds=1)):
        answer = call(raw)
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "authentication_failed"
    assert "expired" in answer.json()["error"]["message"] and answer["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_stops_at_once_and_both_steps_are_in_the_audit_log(org_a, make_member):
    user = make_member(org_a, Role.AGENT)
    token, raw = services.create_token(user=user, organization=org_a, name="Helpdesk", scopes=["read"])
    assert call(raw).status_code == 200
    membership = Membership.objects.get(user=user)
    assert services.revoke_token(token=token, by=membership) is True
    assert services.revoke_token(token=token, by=membership) is False  # once is enough
    answer = call(raw)
    assert answer.status_code == 401 and "revoked" in answer.json()["error"]["message"]
    entries = list(AuditEntry.objects.filter(organization=org_a).order_by("created_at", "id"))
    assert [e.action for e in entries] == [AuditAction.TOKEN_CREATED, AuditAction.TOKEN_REVOKED]
    assert all(e.actor == user and e.target_id == str(token.pk) for e in entries)
    assert entries[0].details["scope"] == "read" and entries[1].details["name"] == "Helpdesk"


def test_a_member_cannot_revoke_another_members_token_but_an_admin_can(org_a, org_b, make_member):
    owner, other, admin = (make_member(org_a, role) for role in (Role.AGENT, Role.CX_MANAGER, Role.ADMIN))
    token, _raw = services.create_token(user=owner, organization=org_a, name="Mine", scopes=["read"])
    from django.core.exceptions import PermissionDenied
    with pytest.raises(PermissionDenied):
        services.revoke_token(token=token, by=Membership.objects.get(user=other))
    foreign_admin = Membership.objects.get(user=make_member(org_b, Role.ADMIN))
    with pytest.raises(PermissionDenied):
        services.revoke_token(token=token, by=foreign_admin)
    assert services.revoke_token(token=token, by=Membership.objects.get(user=admin))


def test_deactivating_the_member_ends_their_tokens_at_once(org_a, make_member):
    user = make_member(org_a, Role.CX_MANAGER)
    _t, raw = services.create_token(user=user, organization=org_a, name="CRM", scopes=["read", "write"])
    assert call(raw).status_code == 200
    Membership.objects.filter(user=user).update(is_active=False)
    answer = call(raw)
    assert answer.status_code == 401 and "no longer an active member" in answer.json()["error"]["message"]
    Membership.objects.filter(user=user).update(is_active=True)
    assert call(raw).status_code == 200  # reactivated: the token was never revoked


def test_a_token_acts_only_for_its_organization(org_a, org_b, make_member):
    user = make_member(org_a, Role.CX_MANAGER)
    Membership.objects.create(user=user, organization=org_b, role=Role.ADMIN)
    _t, raw = services.create_token(user=user, organization=org_a, name="A only", scopes=["read"])
    ours, theirs = factories.customer(org_a), factories.customer(org_b)
    assert {row["id"] for row in call(raw).json()["results"]} == {ours.pk}
    # Another organization's object answers like a missing one.
    foreign = call(raw, url=f"/api/v1/customers/{theirs.pk}/")
    missing = call(raw, url=f"/api/v1/customers/{theirs.pk + 10_000}/")
    assert foreign.status_code == missing.status_code == 404 and foreign.json() == missing.json()
    # Asking for another organization, even the owner's own, is refused.
    refused = call(raw, HTTP_X_ORGANIZATION=org_b.slug)
    assert refused.status_code == 403 and org_a.slug in refused.json()["error"]["message"]
    assert call(raw, HTTP_X_ORGANIZATION=org_a.slug).status_code == 200


def test_last_used_is_written_at_most_once_a_minute(org_a, make_member):
    user = make_member(org_a)
    token, raw = services.create_token(user=user, organization=org_a, name="Poller", scopes=["read"])
    assert token.last_used_at is None
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        call(raw)
    token.refresh_from_db()
    assert token.last_used_at == start
    with time_machine.travel(start + timedelta(seconds=59), tick=False):
        call(raw)
    token.refresh_from_db()
    assert token.last_used_at == start
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        call(raw)
    token.refresh_from_db()
    assert token.last_used_at == start + timedelta(seconds=61)


@pytest.mark.parametrize("header", ["Bearer cxp_00000000_nope", "Bearer nonsense", "Bearer", "Bearer a b"])
def test_a_malformed_or_unknown_token_is_401(org_a, make_member, header):
    services.create_token(user=make_member(org_a), organization=org_a, name="Real", scopes=["read"])
    answer = Client().get("/api/v1/customers/", HTTP_AUTHORIZATION=header)
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "authentication_failed"


def test_a_token_with_a_right_prefix_and_a_wrong_secret_is_refused(org_a, make_member):
    token, raw = services.create_token(user=make_member(org_a), organization=org_a, name="Real", scopes=["read"])
    assert call(f"cxp_{token.prefix}_{'x' * 43}").status_code == 401
    other, other_raw = services.create_token(user=make_member(org_a), organization=org_a, name="B", scopes=["read"])
    # One token's secret under another's prefix names neither.
    assert call(f"cxp_{token.prefix}_{other_raw.split('_', 2)[2]}").status_code == 401


def test_an_old_drf_token_header_is_told_what_to_do(org_a):
    answer = Client().get("/api/v1/customers/", HTTP_AUTHORIZATION="Token 0123456789abcdef")
    assert answer.status_code == 401
    assert "Bearer" in answer.json()["error"]["message"] and "API tokens" in answer.json()["error"]["message"]


@pytest.mark.parametrize(("fields", "problem"), [
    ({"name": " ", "scopes": ["read"]}, "name"),
    ({"name": "X", "scopes": []}, "read"),
    ({"name": "X", "scopes": ["admin"]}, "read"),
    ({"name": "X", "scopes": ["read"], "expires_at": "past"}, "future"),
])
def test_a_token_made_wrong_is_refused_and_nothing_is_written(org_a, make_member, fields, problem):
    if fields.get("expires_at") == "past":
        fields["expires_at"] = timezone.now() - timedelta(minutes=1)
    with pytest.raises(services.TokenError, match=problem):
        services.create_token(user=make_member(org_a), organization=org_a, **fields)
    assert not ApiToken.objects.exists() and not AuditEntry.objects.exists()


def test_a_deactivated_member_cannot_make_a_token(org_a, make_member):
    user = make_member(org_a)
    Membership.objects.filter(user=user).update(is_active=False)
    with pytest.raises(services.TokenError):
        services.create_token(user=user, organization=org_a, name="Late", scopes=["read"])


def test_the_migration_revokes_the_old_tokens_drops_their_table_and_says_so(settings):
    module = next(importlib.import_module(f"cxplatform.migrations.{name}")
                  for name in _migration_names() if name.endswith("_api_tokens"))
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, user_id integer)")
        cursor.execute("INSERT INTO authtoken_token VALUES ('a1', 1), ('b2', 2), ('c3', 3)")
    output = io.StringIO()
    with redirect_stdout(output), connection.schema_editor() as editor:
        module.revoke_drf_tokens(None, editor)
    assert "Revoked 3 old API token(s)" in output.getvalue() and "Bearer" in output.getvalue()
    assert "authtoken_token" not in connection.introspection.table_names()
    with connection.schema_editor() as editor:  # a database that never had DRF's tokens: nothing to do
        module.revoke_drf_tokens(None, editor)


def _migration_names():
    from pathlib import Path

    import cxplatform.migrations

    return sorted(p.stem for p in Path(cxplatform.migrations.__file__).parent.glob("0*.py"))


def test_the_operator_revokes_a_leaked_token_from_the_admin(org_a, org_b, make_member, django_user_model):
    """Read-only in the admin (no secret, not even its hash, shown); one action: revoke, recorded
    in the token's organization's audit log."""
    leaked, raw = services.create_token(user=make_member(org_a, Role.CX_MANAGER), organization=org_a, name="CRM sync",
                                        scopes=["read"])
    other = factories.api_token(org_b)
    operator = django_user_model.objects.create_superuser("ops", "ops@example.com", "x-pass-123456")
    admin = Client()
    admin.force_login(operator)
    listed = admin.get("/admin/cxplatform/apitoken/")
    assert listed.status_code == 200 and "CRM sync" in listed.content.decode()
    page = admin.get(f"/admin/cxplatform/apitoken/{leaked.pk}/change/").content.decode()
    assert leaked.hash not in page and raw not in page
    assert call(raw).status_code == 200

    done = admin.post("/admin/cxplatform/apitoken/", {"action": "revoke", "_selected_action": [leaked.pk]})
    assert done.status_code == 302
    assert call(raw).status_code == 401
    other.refresh_from_db()
    assert other.revoked_at is None  # only the one selected
    [entry] = AuditEntry.objects.filter(organization=org_a, action=AuditAction.TOKEN_REVOKED)
    assert entry.actor == operator and entry.details["by_operator"] is True and entry.details["prefix"] == leaked.prefix
    # Again: already revoked, nothing more recorded.
    admin.post("/admin/cxplatform/apitoken/", {"action": "revoke", "_selected_action": [leaked.pk]})
    assert AuditEntry.objects.filter(action=AuditAction.TOKEN_REVOKED).count() == 1
