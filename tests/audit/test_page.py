"""/settings/audit/: admins read their organization's entries, newest first, filtered, page by
page, and export them to CSV (an export that is itself in the log)."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cxplatform import audit_views
from cxplatform.audit import AuditAction
from cxplatform.models import AuditEntry, Membership, Role

pytestmark = pytest.mark.django_db
URL = "/settings/audit/"
EXPORT = "/settings/audit/export.csv"


def at(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def people(org_a, make_member, django_user_model):
    org_a.time_zone = "Europe/Riga"  # UTC+2 in winter: a day there starts at 22:00 UTC the day before
    org_a.save()
    admin = make_member(org_a, Role.ADMIN, username="ilze")
    admin.first_name, admin.last_name = "Ilze", "Kalniņa"
    admin.save()
    manager = make_member(org_a, Role.CX_MANAGER, username="janis")
    return {"admin": admin, "manager": manager}


@pytest.fixture
def entries(org_a, org_b, people):
    def add(organization, action, when, **fields):
        return AuditEntry.objects.create(organization=organization, action=action, created_at=when, **fields)

    admin, manager = people["admin"], people["manager"]
    return {
        # 23:30 in Riga on March 9th; the next one is 00:30 on March 10th there.
        "late": add(org_a, AuditAction.SIGNED_IN, at(2026, 3, 9, 21, 30), actor=admin,
                    actor_label="Ilze Kalniņa <ilze@alpha.example>", ip_address="203.0.113.9",
                    user_agent="Mozilla/5.0 (Windows NT 10.0; Win64; x64) Gecko/20100101 Firefox/131.0"),
        "role": add(org_a, AuditAction.ROLE_CHANGED, at(2026, 3, 9, 22, 30), actor=admin,
                    actor_label="Ilze Kalniņa <ilze@alpha.example>", target_label="Jānis Bērziņš",
                    details={"from": "agent", "to": "admin"}),
        "rule": add(org_a, AuditAction.SETTINGS_CHANGED, at(2026, 3, 11, 8, 0), actor=manager, actor_label="janis",
                    target_label="=HYPERLINK(\"http://evil.example\")",
                    details={"setting": "feedback.routingrule", "change": "changed",
                             "changes": {"active": [True, False], "position": [1, 5]}}),
        "theirs": add(org_b, AuditAction.SIGNED_IN, at(2026, 3, 10, 9, 0), actor_label="beta person"),
        "nobody": add(None, AuditAction.SIGN_IN_FAILED, at(2026, 3, 10, 9, 0), actor_label="root"),
    }


TEST_DAYS_END = at(2026, 6, 1)  # the fixtures' entries are older; the client's own sign-in is not


def shown(response):
    """The entries on the page, less the sign-in the test client's login just recorded."""
    return [row["entry"].pk for row in response.context["rows"] if row["entry"].created_at < TEST_DAYS_END]


def test_admins_read_their_organizations_entries_newest_first(client_for, people, entries):
    page = client_for(people["admin"]).get(URL)
    assert page.status_code == 200
    assert shown(page) == [entries["rule"].pk, entries["role"].pk, entries["late"].pk]
    html = page.content.decode()
    assert "beta person" not in html and "root" not in html
    # Who, what (with readable details), on what, when in the organization's zone, from where.
    assert "Role changed" in html and "Support agent → Administrator" in html and "Jānis Bērziņš" in html
    assert "Routing rule: changed" in html and "Active: yes → no" in html and "Order: 1 → 5" in html
    assert "Mar 10, 2026" in html and "12:30" in html.replace("\u202f", " ")  # 22:30 UTC is 00:30 in Riga
    assert "203.0.113.9" in html and "Firefox on Windows" in html


@pytest.mark.parametrize(("role", "status"), [(Role.CX_MANAGER, 403), (Role.AGENT, 403), (Role.VIEWER, 403)])
def test_only_admins_open_it(org_a, make_member, client_for, entries, role, status):
    client = client_for(make_member(org_a, role))
    assert client.get(URL).status_code == status
    assert client.get(EXPORT).status_code == status
    assert not AuditEntry.objects.filter(action=AuditAction.AUDIT_EXPORTED).exists()


def test_another_organizations_admin_sees_none_of_it(org_b, make_member, client_for, entries):
    client = client_for(make_member(org_b, Role.ADMIN))
    assert shown(client.get(URL)) == [entries["theirs"].pk]
    # A cursor made of org_a's entry leads to nothing of org_a's either.
    cursor = audit_views._cursor_of(entries["rule"])
    assert shown(client.get(URL, {"after": cursor})) == [entries["theirs"].pk]
    assert "=HYPERLINK" not in client.get(EXPORT).getvalue().decode()


def test_the_organization_switched_to_is_the_one_shown(org_a, org_b, people, client_for, entries):
    Membership.objects.create(user=people["admin"], organization=org_b, role=Role.ADMIN)
    client = client_for(people["admin"])
    assert entries["theirs"].pk not in shown(client.get(URL))
    client.post("/organization/switch/", {"organization": org_b.slug})
    assert shown(client.get(URL)) == [entries["theirs"].pk]


@pytest.mark.parametrize(("query", "expected"), [
    ({"action": "member.role_changed"}, ["role"]),
    ({"person": "manager"}, ["rule"]),
    ({"from": "2026-03-10", "to": "2026-03-10"}, ["role"]),  # the organization's day, not UTC's
    ({"from": "2026-03-10"}, ["rule", "role"]),
    ({"to": "2026-03-09"}, ["late"]),
    ({"q": "bērziņš"}, ["role"]),  # on what, any case
    ({"q": "janis"}, ["rule"]),  # who
    ({"action": "auth.signed_in", "q": "ilze"}, ["late"]),
])
def test_each_filter_narrows(client_for, people, entries, query, expected):
    query = {key: (people[value].pk if key == "person" else value) for key, value in query.items()}
    page = client_for(people["admin"]).get(URL, query)
    assert page.status_code == 200
    assert shown(page) == [entries[name].pk for name in expected]


def test_the_filters_offer_the_organizations_members_and_translated_actions(client_for, people, entries, org_b,
                                                                             make_member):
    stranger = make_member(org_b, Role.ADMIN)
    form = client_for(people["admin"]).get(URL).context["form"]
    assert {u.pk for u in form.fields["person"].queryset} == {people["admin"].pk, people["manager"].pk}
    assert ("member.role_changed", "Role changed") in [(v, str(label)) for v, label in form.fields["action"].choices]
    russian = client_for(people["admin"]).get(URL, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Роль изменена" in russian or "member.role_changed" in russian
    # Another organization's person answers exactly like a person who does not exist.
    admin = client_for(people["admin"])
    foreign, missing = admin.get(URL, {"person": stranger.pk}), admin.get(URL, {"person": 999999})
    assert foreign.status_code == missing.status_code == 400
    assert foreign.context["form"].errors == missing.context["form"].errors


@pytest.mark.parametrize("query", [{"from": "2026-03-12", "to": "2026-03-01"}, {"from": "yesterday"},
                                   {"action": "member.renamed"}, {"after": "not-a-cursor"}])
def test_bad_input_answers_400_with_a_reason(client_for, people, entries, query):
    page = client_for(people["admin"]).get(URL, query)
    assert page.status_code == 400
    assert 'role="alert"' in page.content.decode()
    assert page.context["rows"] is None


def test_pages_walk_from_a_cursor_without_counting_the_log(org_a, people, client_for):
    start = at(2026, 1, 1)
    AuditEntry.objects.bulk_create([
        AuditEntry(organization=org_a, action=AuditAction.SIGNED_IN, actor_label=f"person {i}",
                   created_at=start + timedelta(minutes=i // 2))  # pairs share a moment: the id breaks ties
        for i in range(120)])
    client = client_for(people["admin"])
    seen, cursor = [], None
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            page = client.get(URL, {"after": cursor} if cursor else {})
            seen.extend(shown(page))
            cursor = page.context["next_cursor"]
    assert cursor is None and len(seen) == 120 == len(set(seen))
    ordered = AuditEntry.objects.filter(organization=org_a, created_at__lt=TEST_DAYS_END).order_by("-created_at", "-id")
    assert seen == list(ordered.values_list("pk", flat=True))
    assert not [q["sql"] for q in queries.captured_queries
                if "COUNT(" in q["sql"].upper() and "cxplatform_auditentry" in q["sql"]]


def test_csv_export_streams_the_filtered_entries_and_is_logged(client_for, people, entries, org_a):
    response = client_for(people["admin"]).get(EXPORT, {"from": "2026-03-10", "to": "2026-05-31"})
    assert response.status_code == 200 and response.streaming
    assert response["Content-Disposition"].startswith('attachment; filename="audit-log-alpha-')
    raw = b"".join(response.streaming_content).decode("utf-8")
    assert raw.startswith("\ufeff")
    header, *rows = list(csv.reader(io.StringIO(raw[1:])))
    assert header == audit_views.CSV_COLUMNS
    rows = [dict(zip(header, row, strict=True)) for row in rows]
    assert [row["action"] for row in rows] == ["settings.changed", "member.role_changed"]
    rule, role = rows
    assert rule["on_what"] == "'=HYPERLINK(\"http://evil.example\")"  # inert in a spreadsheet
    assert rule["details"] == "Routing rule: changed; Active: yes → no; Order: 1 → 5"
    assert role["when"] == "2026-03-10T00:30:00+02:00" and role["what"] == "Role changed"
    exported = AuditEntry.objects.get(action=AuditAction.AUDIT_EXPORTED)
    assert exported.organization == org_a and exported.actor == people["admin"]
    assert exported.details == {"filters": {"from": "2026-03-10", "to": "2026-05-31"}}
    assert exported.pk in [row["entry"].pk for row in client_for(people["admin"]).get(URL).context["rows"]]


def test_a_large_export_is_read_in_chunks(org_a, people, client_for, monkeypatch):
    monkeypatch.setattr(audit_views, "EXPORT_CHUNK", 7)
    AuditEntry.objects.bulk_create([AuditEntry(organization=org_a, action=AuditAction.SIGNED_IN,
                                               actor_label=f"p{i}", created_at=at(2026, 1, 1)) for i in range(30)])
    response = client_for(people["admin"]).get(EXPORT, {"action": "auth.signed_in", "to": "2026-05-31"})
    with CaptureQueriesContext(connection) as queries:
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))[1:]
    assert sorted(row[1] for row in rows) == sorted(f"p{i}" for i in range(30))
    assert len(queries.captured_queries) == 5  # 7 + 7 + 7 + 7 + 2


def test_a_head_of_the_export_exports_nothing_and_logs_nothing(client_for, people, entries):
    response = client_for(people["admin"]).head(EXPORT, {"from": "2026-03-10", "to": "2026-05-31"})
    assert response.status_code == 200 and "Content-Length" not in response  # not "an empty file"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-log-alpha-')
    assert not AuditEntry.objects.filter(action=AuditAction.AUDIT_EXPORTED).exists()


def test_a_bad_export_filter_answers_400_and_logs_nothing(client_for, people, entries):
    assert client_for(people["admin"]).get(EXPORT, {"from": "nope"}).status_code == 400
    assert not AuditEntry.objects.filter(action=AuditAction.AUDIT_EXPORTED).exists()


def test_an_export_too_large_for_one_request_is_refused_whole_never_served_short(org_a, people, client_for,
                                                                                   settings):
    """Streamed past the web worker's timeout, a file would end short with a 200: above the limit
    the page says to narrow the dates, and a narrower export is whole."""
    settings.AUDIT_EXPORT_MAX_ROWS = 20
    AuditEntry.objects.bulk_create([AuditEntry(organization=org_a, action=AuditAction.SIGNED_IN, actor_label=f"p{i}",
                                               created_at=at(2026, 1, 1 + i % 2)) for i in range(30)])
    admin = client_for(people["admin"])
    refused = admin.get(EXPORT, {"action": "auth.signed_in", "to": "2026-05-31"}, follow=True)
    assert refused.redirect_chain[0][0].startswith("/settings/audit/?") and "action=auth.signed_in" in \
        refused.redirect_chain[0][0]
    assert "more than 20 entries" in refused.content.decode() and "narrow the dates" in refused.content.decode()
    assert not AuditEntry.objects.filter(action=AuditAction.AUDIT_EXPORTED).exists()
    # One day of it at a time: 15 entries, whole.
    part = admin.get(EXPORT, {"action": "auth.signed_in", "from": "2026-01-01", "to": "2026-01-01"})
    rows = list(csv.reader(io.StringIO(b"".join(part.streaming_content).decode("utf-8-sig"))))[1:]
    assert part.status_code == 200 and len(rows) == 15
