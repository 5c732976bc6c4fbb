"""Finding a person by each identifier, exporting what is held, and what only admins of the
person's own organization may do."""

import csv
import io
import json
import zipfile

import pytest

from cxplatform.audit import AuditAction
from cxplatform.models import AuditEntry, Customer, Role
from feedback.models import FeedbackItem

from .conftest import EMAIL, EXTERNAL_ID, NAME, NEEDLES, PHONE, build_world

pytestmark = pytest.mark.django_db

PAGE = "/settings/privacy/"


def find(client, kind, value):
    return client.post(PAGE, {"kind": kind, "value": value})


@pytest.mark.parametrize(("kind", "value"), [("email", EMAIL.upper()), ("phone", PHONE),
                                             ("phone", "+371-2912-3456"), ("external_id", EXTERNAL_ID)])
def test_a_person_is_found_by_each_identifier_with_what_is_held(world, client_for, kind, value):
    page = find(client_for(world.admin), kind, value)
    assert page.status_code == 200
    assert page.context["subject"].customer_ids == [world.anna.pk]
    held = page.context["held"]
    assert held["responses"] == 4  # her three, and an anonymous comment naming her
    assert held["comments"] == 3
    assert held["cases"] == 1 and held["items"] == 1  # her case; the e-mail from her address without a customer
    assert held["messages"] == 3 and held["notes"] == 2 and held["invitations"] == 1 and held["trigger_events"] == 1
    body = page.content.decode()
    assert NAME in body and "Download everything" in body and "Erase this person" in body


def test_an_address_without_a_customer_finds_the_items_that_name_it(world, client_for):
    FeedbackItem.objects.create(organization=world.org, source=FeedbackItem.Source.REVIEW,
                                received_at=world.anna.created_at, text="Great service says ghost@example.org")
    page = find(client_for(world.admin), "email", "ghost@example.org")
    assert page.status_code == 200
    assert page.context["subject"].customers == []
    assert page.context["held"]["items"] == 1
    assert "No customer has this identifier" in page.content.decode()


def test_nobody_found_says_so(world, client_for):
    page = find(client_for(world.admin), "email", "nobody@example.org")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Nothing is held about this person." in body and "Erase this person" not in body


@pytest.mark.parametrize(("kind", "value", "message"), [
    ("email", "", "Enter the e-mail, phone or external id"),
    ("email", "not-an-address", "This is not an e-mail address."),
    ("phone", "12", "at least five digits"),
    ("phone", "call me maybe 12345", "no letters"),
    ("fax", "123456", "Select a valid choice"),
])
def test_bad_searches_are_answered_clearly(world, client_for, kind, value, message):
    page = find(client_for(world.admin), kind, value)
    assert page.status_code == 400
    assert message in page.content.decode()
    assert page.context["subject"] is None


def test_the_export_holds_everything_as_json_and_safe_csv(world, client_for):
    world.anna.attributes = {**world.anna.attributes, "note": "=HYPERLINK(\"http://evil\")"}
    world.anna.save(update_fields=["attributes"])
    answer = client_for(world.admin).post(f"{PAGE}export/", {"kind": "email", "value": EMAIL})
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/zip" and "attachment" in answer["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    names = set(archive.namelist())
    assert {"everything.json", "answers.csv", "comments.csv", "items.csv", "messages.csv", "cases.csv", "notes.csv",
            "invitations.csv", "customers.csv", "responses.csv", "hidden_fields.csv"} <= names
    everything = json.loads(archive.read("everything.json"))
    assert everything["customers"][0]["email"] == EMAIL
    assert len(everything["responses"]) == 4 and len(everything["cases"]) == 1 and len(everything["notes"]) == 2
    assert {(h["field"], h["value"]) for h in everything["hidden_fields"]} >= {("email", EMAIL.lower()),
                                                                               ("contact", NAME)}
    comments = list(csv.DictReader(io.StringIO(archive.read("comments.csv").decode("utf-8-sig"))))
    assert any("courier was late" in row["comment"] for row in comments)
    customers = list(csv.DictReader(io.StringIO(archive.read("customers.csv").decode("utf-8-sig"))))
    assert json.loads(customers[0]["attributes"])["note"].startswith("=HYPERLINK")  # JSON: a cell starting "{"
    messages = list(csv.DictReader(io.StringIO(archive.read("messages.csv").decode("utf-8-sig"))))
    assert {m["text"] for m in messages} >= {f"Dear {NAME}, sorry", "Thanks, Anna"}
    entry = AuditEntry.objects.get(organization=world.org, action=AuditAction.SUBJECT_DATA_EXPORTED)
    assert entry.details["counts"]["responses"] == 4 and entry.details["searched_by"] == "email"
    assert not any(n.lower() in json.dumps(entry.details).lower() + entry.target_label.lower() for n in NEEDLES)


def test_formula_cells_are_neutralised(world, client_for):
    item = FeedbackItem.objects.get(customer=world.anna)
    FeedbackItem.objects.filter(pk=item.pk).update(resolution_note="=cmd|' /C calc'!A0")
    archive = zipfile.ZipFile(io.BytesIO(client_for(world.admin).post(
        f"{PAGE}export/", {"kind": "email", "value": EMAIL}).content))
    cases = list(csv.DictReader(io.StringIO(archive.read("cases.csv").decode("utf-8-sig"))))
    assert cases[0]["resolution_note"] == "'=cmd|' /C calc'!A0"


def test_a_bad_export_request_is_refused(world, client_for):
    answer = client_for(world.admin).post(f"{PAGE}export/", {"kind": "email", "value": "nope"})
    assert answer.status_code == 400
    assert not AuditEntry.objects.filter(action=AuditAction.SUBJECT_DATA_EXPORTED).exists()


@pytest.mark.parametrize("role", [Role.CX_MANAGER, Role.AGENT, Role.VIEWER])
def test_only_admins_open_the_page(world, make_member, client_for, role):
    client = client_for(make_member(world.org, role))
    assert find(client, "email", EMAIL).status_code == 403
    assert client.get(PAGE).status_code == 403
    assert client.post(f"{PAGE}erase/", {"kind": "email", "value": EMAIL, "confirm": EMAIL}).status_code == 403
    assert client.post(f"{PAGE}export/", {"kind": "email", "value": EMAIL}).status_code == 403
    assert client.post(f"{PAGE}retention/", {"months": "12"}).status_code == 403


def test_another_organizations_admin_finds_and_erases_nothing(world, org_b, make_member, client_for):
    other = client_for(make_member(org_b, Role.ADMIN))
    for kind, value in (("email", EMAIL), ("phone", PHONE), ("external_id", EXTERNAL_ID)):
        page = find(other, kind, value)
        assert page.status_code == 200 and page.context["subject"].customers == []
        assert not any(page.context["held"].values())
    archive = zipfile.ZipFile(io.BytesIO(other.post(f"{PAGE}export/", {"kind": "email", "value": EMAIL}).content))
    assert json.loads(archive.read("everything.json"))["customers"] == []
    other.post(f"{PAGE}erase/", {"kind": "email", "value": EMAIL, "confirm": EMAIL})
    assert Customer.objects.get(pk=world.anna.pk).email == EMAIL
    assert FeedbackItem.objects.get(customer=world.anna).text != "[erased]"


def test_the_same_address_in_two_organizations_is_two_people(org_a, org_b, make_member, client_for):
    build_world(org_a, make_member)
    twin = build_world(org_b, make_member)
    client_for(twin.admin).post(f"{PAGE}erase/", {"kind": "email", "value": EMAIL, "confirm": EMAIL})
    assert Customer.objects.get(organization=org_a, email=EMAIL).name == NAME
    assert Customer.objects.get(pk=twin.anna.pk).email == ""


def test_the_settings_hub_links_the_page_for_admins_only(world, make_member, client_for):
    assert PAGE in client_for(world.admin).get("/settings/").content.decode()
    assert PAGE not in client_for(make_member(world.org, Role.CX_MANAGER)).get("/settings/").content.decode()
