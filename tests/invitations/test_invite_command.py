"""`manage.py invite`: a campaign to the contacts of a CSV/XLSX file through the same path as the
page — customers upserted by the platform's matching rules, a LIST audience, the run with its
skips, the sending task (in process here, as on the embedded default) — and the counts printed."""

import io
from datetime import datetime

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from cxplatform import sms
from cxplatform.models import Customer
from invitations import services
from invitations.models import Audience, Campaign, Invitation, Suppression
from tests import factories

pytestmark = pytest.mark.django_db(transaction=False)

CSV = """customer_external_id,email,phone,language,name,plan
C-1,ann@mail.example,,en,Ann,gold
C-2,BOB@mail.example,,ru,Bob Renamed,silver
,carl@mail.example,,,Carl,
C-1,ann@mail.example,,en,Ann again,gold
,not-an-email,,,Eve,
,,,xx,Nobody,
C-9,,+371 2000 0001,lv,Phone Only,
,dave@mail.example,,,Dave,
C-51,taken@mail.example,,,Clash,
"""


@pytest.fixture
def link(org_a):
    return factories.distribution(org_a)


def invite(*args, capture=None):
    out = io.StringIO()
    if capture is not None:
        with capture(execute=True):  # what a commit does on the embedded default: the tasks run in process
            call_command("invite", *args, stdout=out)
    else:
        call_command("invite", *args, stdout=out)
    return out.getvalue()


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_a_csv_goes_out_through_the_same_path_as_the_page_with_every_count(
        org_a, link, tmp_path, django_capture_on_commit_callbacks):
    Customer.objects.create(organization=org_a, external_id="C-2", name="Bob", email="bob@mail.example")
    Customer.objects.create(organization=org_a, external_id="C-50", name="Owner", email="taken@mail.example")
    services.suppress(organization=org_a, address="dave@mail.example", reason="unsubscribed", source="test")
    mail.outbox.clear()

    output = invite("--org", "alpha", "--survey", str(link.survey_id), write(tmp_path, "list.csv", CSV),
                    capture=django_capture_on_commit_callbacks)

    assert "queued: 3" in output
    assert "skipped (duplicate): 1" in output and "skipped (no_address): 1" in output
    assert "skipped (suppressed): 1" in output
    assert "line 6: “not-an-email” is not a valid e-mail address." in output
    assert "line 7:" in output and "xx" in output
    assert "line 10: The customer with this e-mail or phone has the external id C-50, not C-51." in output
    assert "bad rows: 3" in output
    assert "customers: 4 created, 1 updated" in output  # Ann, Carl, Phone Only, Dave; Bob
    # Sent in process, once each, with the platform's default wording.
    assert sorted(m.to[0] for m in mail.outbox) == ["ann@mail.example", "bob@mail.example", "carl@mail.example"]
    bob = Customer.objects.get(organization=org_a, external_id="C-2")
    assert (bob.name, bob.language, bob.attributes) == ("Bob Renamed", "ru", {"plan": "silver"})
    assert next(m for m in mail.outbox if m.to == ["bob@mail.example"]).subject == \
        "Alpha Scooters: один короткий вопрос"
    assert Customer.objects.filter(organization=org_a, email__iexact="ann@mail.example").count() == 1
    assert Customer.objects.get(organization=org_a, external_id="C-9").phone == "+37120000001"
    campaign = Campaign.objects.get()
    assert campaign.distribution == link and campaign.audience.kind == Audience.Kind.LIST
    assert campaign.audience.memberships.count() == 5
    rows = Invitation.objects.filter(campaign=campaign)
    assert sorted(rows.values_list("status", flat=True)) == ["sent"] * 3 + ["skipped"] * 2
    assert f"Campaign #{campaign.pk}: 3 queued" in output


def test_an_xlsx_by_sms_with_a_chosen_link_and_message(org_a, link, tmp_path, settings,
                                                       django_capture_on_commit_callbacks):
    settings.SMS_BACKEND = "cxplatform.sms.LocmemBackend"
    sms.LocmemBackend.outbox.clear()
    other = factories.distribution(org_a, link.survey)
    book = Workbook()
    sheet = book.active
    sheet.append(["Customer External ID", "Name", "Phone", "Email", "City"])
    sheet.append([1001, "Anna", "+37120000101", None, "Rīga"])  # a number cell, as spreadsheets give it
    sheet.append([1002, "Boris", "+37120000102", None, "Daugavpils"])
    sheet.append([1003, "No phone", None, "np@mail.example", None])
    path = tmp_path / "list.xlsx"
    book.save(path)

    output = invite("--org", "alpha", "--survey", str(link.survey_id), "--link", str(other.pk), "--sms",
                    "--body", "Hi {name}, rate {organization}:", str(path), capture=django_capture_on_commit_callbacks)

    assert "queued: 2" in output and "skipped (no_address): 1" in output
    assert sorted(m.to for m in sms.LocmemBackend.outbox) == ["+37120000101", "+37120000102"]
    anna = next(m for m in sms.LocmemBackend.outbox if m.to == "+37120000101")
    assert anna.text.startswith("Hi Anna, rate Alpha Scooters: http")
    assert Campaign.objects.get().distribution == other
    assert Customer.objects.get(organization=org_a, external_id="1001").attributes == {"City": "Rīga"}


def test_a_dry_run_counts_and_saves_nothing(org_a, link, tmp_path):
    before = Customer.objects.count()
    output = invite("--org", "alpha", "--survey", str(link.survey_id), "--dry-run", write(tmp_path, "l.csv", CSV))
    assert "queued: 5" in output and "skipped (duplicate): 1" in output  # nobody suppressed, no clash here
    assert "Dry run: nothing was saved or sent." in output
    assert Customer.objects.count() == before
    assert not Campaign.objects.exists() and not Invitation.objects.exists() and not Audience.objects.exists()
    assert mail.outbox == []


def test_a_later_send_is_scheduled_in_the_organizations_time_zone(org_a, link, tmp_path):
    org_a.time_zone = "Europe/Riga"
    org_a.save()
    output = invite("--org", "alpha", "--survey", str(link.survey_id), "--send-at", "2031-05-04T09:00",
                    "--subject", "Hello {name}", write(tmp_path, "l.csv", "email\nx@mail.example\n"))
    campaign = Campaign.objects.get()
    assert campaign.status == Campaign.Status.SCHEDULED
    assert campaign.send_at == datetime.fromisoformat("2031-05-04T06:00+00:00")  # 09:00 in Riga, summer time
    assert campaign.subject == {"en": "Hello {name}"} and "scheduled for" in output
    assert not Invitation.objects.exists()


@pytest.mark.parametrize(("args", "message"), [
    (["--org", "nope"], "No organization with slug 'nope'"),
    (["--survey", "999999"], "No survey #999999"),
    (["--link", "999999"], "has no link #999999"),
    (["--send-at", "next tuesday"], "is not a date and time"),
])
def test_bad_options_are_clear_errors_and_change_nothing(org_a, link, tmp_path, args, message):
    base = {"--org": "alpha", "--survey": str(link.survey_id)}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    flat = [item for pair in base.items() for item in pair]
    with pytest.raises(CommandError, match=message):
        invite(*flat, write(tmp_path, "l.csv", CSV))
    assert not Customer.objects.exists() and not Campaign.objects.exists()


def test_a_survey_without_an_active_link_is_refused(org_a, link, tmp_path):
    link.active = False
    link.save()
    with pytest.raises(CommandError, match="has no active link"):
        invite("--org", "alpha", "--survey", str(link.survey_id), write(tmp_path, "l.csv", CSV))
    # Named explicitly, an inactive link is refused by the campaign's own check, and nothing is kept.
    with pytest.raises(CommandError, match="must be active"):
        invite("--org", "alpha", "--survey", str(link.survey_id), "--link", str(link.pk),
               write(tmp_path, "l.csv", CSV))
    assert not Customer.objects.exists() and not Campaign.objects.exists()


def test_another_organizations_survey_is_not_found(org_a, org_b, tmp_path):
    theirs = factories.distribution(org_b)
    with pytest.raises(CommandError, match="No survey"):
        invite("--org", "alpha", "--survey", str(theirs.survey_id), write(tmp_path, "l.csv", CSV))


@pytest.mark.parametrize(("name", "content", "message"), [
    ("list.txt", "email\na@b.example\n", "Only .csv and .xlsx"),
    ("list.csv", "first,second\n1,2\n", "customer_external_id, email or phone column"),
    ("list.csv", "email\n", "no rows below its header"),
    ("list.csv", "email\nnot-mail\n", "nothing was sent"),
])
def test_a_file_with_errors_reports_them_and_changes_nothing(org_a, link, tmp_path, name, content, message):
    with pytest.raises(CommandError, match=message):
        invite("--org", "alpha", "--survey", str(link.survey_id), write(tmp_path, name, content))
    assert not Customer.objects.exists() and not Campaign.objects.exists() and not Suppression.objects.exists()


def test_a_missing_file_is_a_clear_error(org_a, link, tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        invite("--org", "alpha", "--survey", str(link.survey_id), str(tmp_path / "missing.csv"))
