"""The manager's invitation pages: every page renders, the audience's size is what a run queues,
a list upload upserts customers and reports bad rows, edits on a stale version are refused,
another organization's rows are 404 and never offered, and the roles."""

import io
import re
import zoneinfo
from datetime import timedelta

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook

from cxplatform.models import Customer, Role
from invitations import services
from invitations.models import Audience, AudienceMember, Campaign, Invitation, SendingProfile, Suppression
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(org_a, make_member):
    user = make_member(org_a, Role.CX_MANAGER)
    user.email, user.first_name = "manager@alpha.example", "Mara"
    user.save()
    return user


@pytest.fixture
def client(manager, client_for):
    return client_for(manager)


def campaign_data(link_row, audience_row, **overrides):
    data = {"name": "Spring NPS", "distribution": link_row.pk, "audience": audience_row.pk, "medium": "email",
            "reminder_days": "3, 7", "when": "now", "send_at": "", "recurrence": "once", "sample_size": "0",
            "subject_en": "How did we do?", "body_en": "Hello {name}", "subject_ru": "Как мы справились?",
            "body_ru": "Здравствуйте", "subject_lv": "", "body_lv": ""}
    data.update(overrides)
    return data


def test_every_page_renders_for_a_manager(org_a, client):
    campaign = factories.campaign(org_a)
    audience = campaign.audience
    factories.suppression(org_a)
    pages = [reverse("invitations:campaign_list"), reverse("invitations:campaign_create"),
             reverse("invitations:campaign_detail", args=[campaign.pk]),
             reverse("invitations:campaign_edit", args=[campaign.pk]),
             reverse("invitations:campaign_preview", args=[campaign.pk]) + "?lang=en",
             reverse("invitations:audience_list"), reverse("invitations:audience_create"),
             reverse("invitations:audience_edit", args=[audience.pk]), reverse("invitations:audience_upload"),
             reverse("invitations:suppression_list"), reverse("invitations:sending_settings")]
    for url in pages:
        page = client.get(url)
        assert page.status_code == 200, url
    listing = client.get(reverse("invitations:campaign_list")).content.decode()
    assert campaign.name in listing and audience.name in listing
    for link in ("audience_list", "suppression_list", "sending_settings"):
        assert reverse(f"invitations:{link}") in listing


def test_the_new_campaign_form_starts_from_the_default_wording_in_every_language(org_a, client):
    page = client.get(reverse("invitations:campaign_create")).content.decode()
    assert "один короткий вопрос" in page and "viens īss jautājums" in page and "a quick question" in page


def test_a_campaign_is_created_previewed_tested_and_sent(org_a, client, manager,
                                                         django_capture_on_commit_callbacks):
    link = factories.distribution(org_a)
    people = [factories.customer(org_a) for _ in range(2)]
    audience = Audience.objects.create(organization=org_a, name="Riders", kind=Audience.Kind.LIST)
    AudienceMember.objects.bulk_create([AudienceMember(audience=audience, customer=c) for c in people])
    answer = client.post(reverse("invitations:campaign_create"), campaign_data(link, audience))
    assert answer.status_code == 302
    campaign = Campaign.objects.get(organization=org_a)
    assert campaign.status == "draft" and campaign.reminder_days == [3, 7]
    assert campaign.subject == {"en": "How did we do?", "ru": "Как мы справились?"}
    assert campaign.languages == ["en", "ru"]

    detail = client.get(answer.url).content.decode()
    assert "?lang=ru" in detail and "manager@alpha.example" in detail
    preview = client.get(reverse("invitations:campaign_preview", args=[campaign.pk]) + "?lang=ru")
    assert "Здравствуйте" in preview.content.decode() and "/score/10/" in preview.content.decode()
    assert preview.headers["X-Frame-Options"] == "DENY"  # opened on its own: framed by nobody
    framed = client.get(reverse("invitations:campaign_preview", args=[campaign.pk]) + "?lang=en",
                        HTTP_SEC_FETCH_DEST="iframe")
    assert framed.headers["X-Frame-Options"] == "SAMEORIGIN"  # in the campaign page's frame: our pages only
    assert "frame-ancestors 'self'" in framed.headers["Content-Security-Policy"]

    mail.outbox.clear()
    client.post(reverse("invitations:campaign_test", args=[campaign.pk]), {"language": "ru"})
    assert [m.to for m in mail.outbox] == [["manager@alpha.example"]]
    assert mail.outbox[0].subject == "Как мы справились?"
    assert not Invitation.objects.exists()  # a test is no invitation

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):  # the run starts and sends after the commit
        client.post(reverse("invitations:campaign_schedule", args=[campaign.pk]))
    campaign.refresh_from_db()
    assert campaign.status in ("sending", "sent")
    assert sorted(m.to[0] for m in mail.outbox) == sorted(p.email.lower() for p in people)
    funnel = client.get(reverse("invitations:campaign_detail", args=[campaign.pk])).content.decode()
    assert 'id="funnel"' in funnel
    # Under way it can no longer be edited.
    assert client.get(reverse("invitations:campaign_edit", args=[campaign.pk])).status_code == 302


def test_the_funnel_says_what_each_share_is_of(org_a, client, manager):
    """Delivered and bounced split the sent (a bounce was never delivered); the later steps are
    shares of those delivered."""
    campaign = factories.campaign(org_a, status=Campaign.Status.SENT)
    now = timezone.now()
    for n in range(10):
        factories.invitation(org_a, campaign=campaign, status=Invitation.Status.SENT, sent_at=now,
                             bounced_at=now if n < 2 else None, opened_at=now if 2 <= n < 6 else None)
    page = client.get(reverse("invitations:campaign_detail", args=[campaign.pk])).content.decode()
    meta = dict(re.findall(r'step-(\w+)"><h3>[^<]*</h3><p class="value">\d+</p>\s*<p class="meta">([^<]*)</p>', page))
    assert (meta["delivered"], meta["bounced"], meta["opened"]) == ("80.0 % of sent", "20.0 % of sent",
                                                                    "50.0 % of delivered")
    assert meta["sent"] == ""


def test_a_test_send_without_an_email_of_ones_own_says_so(org_a, client, manager):
    manager.email = ""
    manager.save()
    campaign = factories.campaign(org_a)
    mail.outbox.clear()
    page = client.post(reverse("invitations:campaign_test", args=[campaign.pk]), {"language": "en"}, follow=True)
    assert "has no e-mail address" in page.content.decode() and not mail.outbox


def test_schedule_refusal_is_shown_and_nothing_changes(org_a, client):
    survey = factories.survey(org_a)
    survey.status = "paused"
    survey.save()
    campaign = factories.campaign(org_a, distribution=factories.distribution(org_a, survey))
    page = client.post(reverse("invitations:campaign_schedule", args=[campaign.pk]), follow=True)
    assert "must be active" in page.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == "draft"


def test_a_campaign_at_a_time_is_read_in_the_organizations_time_zone(org_a, client):
    org_a.time_zone = "Europe/Riga"
    org_a.save()
    link, audience = factories.distribution(org_a), factories.audience(org_a)
    day = (timezone.now() + timedelta(days=10)).astimezone(zoneinfo.ZoneInfo("Europe/Riga")).date()
    answer = client.post(reverse("invitations:campaign_create"), campaign_data(
        link, audience, when="at", send_at=f"{day.isoformat()}T09:00", recurrence="monthly", sample_size="100"))
    assert answer.status_code == 302, answer.content.decode()
    campaign = Campaign.objects.get()
    local = campaign.send_at.astimezone(zoneinfo.ZoneInfo("Europe/Riga"))
    assert (local.date(), local.hour, local.minute) == (day, 9, 0)
    assert campaign.recurrence == "monthly" and campaign.sample_size == 100


@pytest.mark.parametrize(("change", "message"), [
    ({"when": "at", "send_at": "2001-01-01T09:00"}, "in the future"),
    ({"body_en": "", "body_ru": "", "subject_en": "", "subject_ru": ""}, "at least one language"),
    ({"subject_ru": ""}, "subject in every language"),
    ({"reminder_days": "3, soon"}, "whole numbers"),
    ({"reminder_days": "²٣"}, "whole numbers"),
])
def test_bad_campaign_input_is_refused_with_a_reason_and_nothing_saved(org_a, client, change, message):
    link, audience = factories.distribution(org_a), factories.audience(org_a)
    page = client.post(reverse("invitations:campaign_create"), campaign_data(link, audience, **change))
    assert page.status_code == 400 and message in page.content.decode()
    assert not Campaign.objects.exists()


def test_campaign_errors_are_in_the_users_language(org_a, client):
    link, audience = factories.distribution(org_a), factories.audience(org_a)
    client.cookies["django_language"] = "ru"
    page = client.post(reverse("invitations:campaign_create"), campaign_data(link, audience, name=""),
                       HTTP_ACCEPT_LANGUAGE="ru")
    assert page.status_code == 400
    assert "Обязательное поле" in page.content.decode()
    assert not Campaign.objects.exists()


def test_a_campaign_edit_on_a_stale_version_is_refused(org_a, client, make_member, client_for):
    campaign = factories.campaign(org_a)
    other = client_for(make_member(org_a, Role.ADMIN))
    seen = campaign.version
    data = campaign_data(campaign.distribution, campaign.audience, version=seen)
    assert other.post(reverse("invitations:campaign_edit", args=[campaign.pk]),
                      {**data, "name": "Theirs"}).status_code == 302
    page = client.post(reverse("invitations:campaign_edit", args=[campaign.pk]), {**data, "name": "Mine"})
    assert page.status_code == 409 and "Someone else changed this" in page.content.decode()
    campaign.refresh_from_db()
    assert campaign.name == "Theirs"


def test_an_audience_edit_on_a_stale_version_is_refused(org_a, client):
    audience = factories.audience(org_a)
    url = reverse("invitations:audience_edit", args=[audience.pk])
    assert client.post(url, {"name": "First", "version": audience.version}).status_code == 302
    page = client.post(url, {"name": "Second", "version": audience.version})
    assert page.status_code == 409
    audience.refresh_from_db()
    assert audience.name == "First"


def test_the_size_shown_is_the_number_a_run_queues(org_a, client):
    link = factories.distribution(org_a)
    premium = []
    for n in range(5):
        person = factories.customer(org_a)
        person.attributes = {"plan": "premium" if n < 3 else "basic", "segment": "retail"}
        person.language = "ru" if n == 0 else "en"
        person.save()
        if n < 3:
            premium.append(person)
    filters = {"name": "Premium", "attributes": "plan=premium", "segments": ["retail"], "languages": ["en", "ru"]}
    size = client.post(reverse("invitations:audience_size"), filters, HTTP_HX_REQUEST="true")
    assert 'data-size="3"' in size.content.decode()
    assert client.post(reverse("invitations:audience_create"), filters).status_code == 302
    audience = Audience.objects.get(name="Premium")
    assert audience.criteria == {"segments": ["retail"], "languages": ["en", "ru"], "attributes": {"plan": "premium"}}
    campaign = factories.campaign(org_a, distribution=link, audience=audience)
    services.schedule(campaign=campaign, send_at=timezone.now() + timedelta(hours=1))
    counts = services.start_run(campaign_id=campaign.pk, now=timezone.now() + timedelta(hours=2))
    assert counts.total == 3
    assert set(Invitation.objects.filter(campaign=campaign).values_list("customer_id", flat=True)) == {
        p.pk for p in premium}


def test_a_bad_filter_says_why_in_the_size_and_on_save(org_a, client):
    size = client.post(reverse("invitations:audience_size"), {"attributes": "no equals sign"})
    assert "name=value" in size.content.decode()
    page = client.post(reverse("invitations:audience_create"), {"name": "X", "answered_within_days": "0"})
    assert page.status_code == 400 and not Audience.objects.exists()


def csv_file(text, name="list.csv"):
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def test_a_list_upload_upserts_customers_and_reports_bad_rows(org_a, client):
    known = Customer.objects.create(organization=org_a, external_id="K-1", name="Known", email="known@x.example")
    by_mail = Customer.objects.create(organization=org_a, name="By mail", email="Mail@x.example")
    text = ("customer_external_id,email,phone,language,name,plan\n"
            "K-1,known@x.example,,ru,Known Again,gold\n"       # row 2: found by id, updated
            ",mail@x.example,,,,silver\n"                      # row 3: found by e-mail (any case)
            "N-1,new@x.example,+371 2000 0001,lv,New One,\n"    # row 4: created
            ",not-an-address,,,,\n"                            # row 5: bad e-mail
            ",,,,Nobody,\n"                                    # row 6: nobody to invite
            "N-1,,,,,\n"                                       # row 7: the same person again
            "N-2,x@x.example,,de,,\n")                         # row 8: unknown language
    page = client.post(reverse("invitations:audience_upload"), {"name": "Gold list", "file": csv_file(text)})
    body = page.content.decode()
    assert page.status_code == 200, body
    audience = Audience.objects.get(name="Gold list")
    assert audience.kind == Audience.Kind.LIST
    members = set(AudienceMember.objects.filter(audience=audience).values_list("customer_id", flat=True))
    new = Customer.objects.get(organization=org_a, external_id="N-1")
    assert members == {known.pk, by_mail.pk, new.pk}
    assert Customer.objects.filter(organization=org_a).count() == 3  # nobody twice
    known.refresh_from_db()
    by_mail.refresh_from_db()
    assert known.language == "ru" and known.name == "Known Again" and known.attributes["plan"] == "gold"
    assert by_mail.attributes["plan"] == "silver" and new.phone == "+37120000001" and new.language == "lv"
    for row, reason in ((5, "not a valid e-mail"), (6, "nobody to invite"), (7, "already in row 4"),
                        (8, "is not one of")):
        assert f"<td>{row}</td><td>" in body and reason in body, (row, reason)

    # The same file again changes no customer and makes no duplicates.
    client.post(reverse("invitations:audience_upload"), {"name": "Again", "file": csv_file(text)})
    assert Customer.objects.filter(organization=org_a).count() == 3


def test_an_xlsx_list_is_read_too(org_a, client):
    book = Workbook()
    sheet = book.active
    sheet.append(["email", "name", "city"])
    sheet.append(["a@x.example", "Anna", "Riga"])
    buffer = io.BytesIO()
    book.save(buffer)
    upload = SimpleUploadedFile("list.xlsx", buffer.getvalue())
    client.post(reverse("invitations:audience_upload"), {"name": "XLSX", "file": upload})
    customer = Customer.objects.get(organization=org_a, email="a@x.example")
    assert customer.attributes == {"city": "Riga"}
    assert AudienceMember.objects.filter(audience__name="XLSX", customer=customer).exists()


@pytest.mark.parametrize(("text", "name", "message"), [
    ("name,city\nAnna,Riga\n", "list.csv", "customer_external_id, email or phone column"),
    ("email\na@x.example\n", "list.txt", "Only .csv and .xlsx"),
    ("", "list.csv", "empty"),
])
def test_a_bad_file_writes_nothing(org_a, client, text, name, message):
    page = client.post(reverse("invitations:audience_upload"), {"name": "Bad", "file": csv_file(text, name)})
    assert page.status_code == 400 and message in page.content.decode()
    assert not Audience.objects.exists() and not Customer.objects.exists()


def test_a_file_over_the_row_limit_writes_nothing(org_a, client, monkeypatch):
    from cxplatform import tabular
    from invitations import uploads

    monkeypatch.setattr(uploads, "LIMITS", tabular.Limits(rows=3))
    text = "email\n" + "".join(f"p{n}@x.example\n" for n in range(5))
    page = client.post(reverse("invitations:audience_upload"), {"name": "Big", "file": csv_file(text)})
    assert page.status_code == 400 and "more than 3 rows" in page.content.decode()
    assert not Audience.objects.exists() and not Customer.objects.exists()


def test_an_audience_used_by_a_campaign_is_kept(org_a, client):
    campaign = factories.campaign(org_a)
    spare = factories.audience(org_a)
    client.post(reverse("invitations:audience_delete", args=[campaign.audience_id]))
    client.post(reverse("invitations:audience_delete", args=[spare.pk]))
    assert list(Audience.objects.values_list("pk", flat=True)) == [campaign.audience_id]


def test_the_campaign_page_lists_skipped_people_by_reason(org_a, client):
    people = [factories.customer(org_a) for _ in range(3)]
    nobody = Customer.objects.create(organization=org_a, name="Nobody Atall")
    audience = Audience.objects.create(organization=org_a, name="List", kind=Audience.Kind.LIST)
    AudienceMember.objects.bulk_create([AudienceMember(audience=audience, customer=c) for c in [*people, nobody]])
    services.suppress(organization=org_a, address=people[0].email, reason="unsubscribed", source="test")
    campaign = factories.campaign(org_a, audience=audience)
    services.schedule(campaign=campaign, send_at=None)
    services.start_run(campaign_id=campaign.pk)
    url = reverse("invitations:campaign_detail", args=[campaign.pk])
    page = client.get(url).content.decode()
    assert "No address" in page and "On the suppression list" in page
    listing = client.get(url + "?reason=no_address&fragment=skipped", HTTP_HX_REQUEST="true").content.decode()
    assert listing.startswith('<section id="skipped">')
    assert "Nobody Atall" in listing and reverse("customer_detail", args=[nobody.pk]) in listing
    assert people[1].name not in listing


def test_the_suppression_list_adds_searches_and_removes(org_a, client, manager):
    url = reverse("invitations:suppression_list")
    assert client.post(url, {"address": " Gone@X.example "}).status_code == 302
    assert client.post(url, {"address": "not an address"}).status_code == 400
    entry = Suppression.objects.get(organization=org_a)
    assert (entry.address, entry.reason, entry.created_by) == ("gone@x.example", "added", manager)
    factories.suppression(org_a)
    found = client.get(url + "?q=gone@").content.decode()
    assert "gone@x.example" in found and "x.example</td>" not in found.replace("gone@x.example", "")
    client.post(reverse("invitations:suppression_delete", args=[entry.pk]))
    assert not Suppression.objects.filter(address="gone@x.example").exists()


def test_sending_settings_save_and_refuse_an_unknown_time_zone(org_a, client):
    url = reverse("invitations:sending_settings")
    page = client.post(url, {"messages_per_minute": "120", "from_name": "Alpha", "reply_to": "cx@alpha.example",
                             "time_zone": "Mars/Olympus"})
    assert page.status_code == 400 and "is not a time zone" in page.content.decode()
    assert not SendingProfile.objects.exists()
    assert client.post(url, {"messages_per_minute": "120", "from_name": "Alpha", "reply_to": "cx@alpha.example",
                             "time_zone": "Europe/Riga"}).status_code == 302
    org_a.refresh_from_db()
    assert org_a.time_zone == "Europe/Riga"
    assert SendingProfile.objects.get(organization=org_a).messages_per_minute == 120
    assert client.post(url, {"messages_per_minute": "0", "time_zone": "UTC"}).status_code == 400


def test_another_organizations_rows_are_404_and_never_offered(org_a, org_b, client):
    theirs = factories.campaign(org_b)
    their_entry = factories.suppression(org_b)
    for url in (reverse("invitations:campaign_detail", args=[theirs.pk]),
                reverse("invitations:campaign_edit", args=[theirs.pk]),
                reverse("invitations:campaign_preview", args=[theirs.pk]),
                reverse("invitations:audience_edit", args=[theirs.audience_id])):
        assert client.get(url).status_code == 404
    for url in (reverse("invitations:campaign_schedule", args=[theirs.pk]),
                reverse("invitations:campaign_cancel", args=[theirs.pk]),
                reverse("invitations:audience_delete", args=[theirs.audience_id]),
                reverse("invitations:suppression_delete", args=[their_entry.pk])):
        assert client.post(url).status_code == 404
    missing = client.get(reverse("invitations:campaign_detail", args=[theirs.pk + 1000]))
    assert missing.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "draft" and Suppression.objects.filter(pk=their_entry.pk).exists()

    form = client.get(reverse("invitations:campaign_create")).content.decode()
    assert theirs.audience.name not in form and theirs.distribution.name not in form
    # Their link or audience posted anyway is refused as not a choice.
    mine_link, mine_audience = factories.distribution(org_a), factories.audience(org_a)
    page = client.post(reverse("invitations:campaign_create"),
                       campaign_data(mine_link, mine_audience, audience=theirs.audience_id))
    assert page.status_code == 400 and not Campaign.objects.filter(organization=org_a).exists()
    page = client.post(reverse("invitations:campaign_create"),
                       campaign_data(mine_link, mine_audience, distribution=theirs.distribution_id))
    assert page.status_code == 400
    # Their touchpoint in a filter is not a choice either.
    page = client.post(reverse("invitations:audience_size"), {"touchpoints": [theirs.distribution.touchpoint_id]})
    assert "data-size" not in page.content.decode()
    listing = client.get(reverse("invitations:campaign_list")).content.decode()
    assert theirs.name not in listing
    assert their_entry.address not in client.get(reverse("invitations:suppression_list")).content.decode()


@pytest.mark.parametrize("role", [Role.VIEWER, Role.AGENT])
def test_read_only_roles_see_campaigns_but_cannot_change_them(org_a, make_member, client_for, role):
    campaign = factories.campaign(org_a)
    reader = client_for(make_member(org_a, role))
    assert reader.get(reverse("invitations:campaign_list")).status_code == 200
    page = reader.get(reverse("invitations:campaign_detail", args=[campaign.pk]))
    assert page.status_code == 200 and reverse("invitations:campaign_edit", args=[campaign.pk]) not in (
        page.content.decode())
    assert reader.get(reverse("invitations:audience_list")).status_code == 200
    for url in (reverse("invitations:campaign_create"), reverse("invitations:audience_create"),
                reverse("invitations:suppression_list"), reverse("invitations:sending_settings")):
        assert reader.get(url).status_code == 403
    for url in (reverse("invitations:campaign_schedule", args=[campaign.pk]),
                reverse("invitations:campaign_cancel", args=[campaign.pk]),
                reverse("invitations:audience_delete", args=[campaign.audience_id])):
        assert reader.post(url).status_code == 403
    campaign.refresh_from_db()
    assert campaign.status == "draft"


def test_cancel_holds_back_what_is_queued(org_a, client):
    audience = Audience.objects.create(organization=org_a, name="L", kind=Audience.Kind.LIST)
    AudienceMember.objects.create(audience=audience, customer=factories.customer(org_a))
    campaign = factories.campaign(org_a, audience=audience)
    services.schedule(campaign=campaign, send_at=timezone.now() + timedelta(minutes=5))
    services.start_run(campaign_id=campaign.pk, now=timezone.now() + timedelta(minutes=6))
    client.post(reverse("invitations:campaign_cancel", args=[campaign.pk]))
    campaign.refresh_from_db()
    assert campaign.status == "cancelled"
    assert Invitation.objects.get(campaign=campaign).status == "skipped"


def test_the_contact_policy_page_sets_the_invitation_cap(org_a, client):
    from surveys.models import ContactPolicy
    from surveys.services import contact_policy

    version = contact_policy(org_a).version
    saved = client.post("/surveys/contact-policy/", {"enabled": "on", "min_days_between_surveys": "14",
                                                     "max_invitations": "2", "cap_days": "90", "version": version})
    assert saved.status_code == 302
    policy = ContactPolicy.objects.get(organization=org_a)
    assert (policy.max_invitations, policy.cap_days) == (2, 90)
    bad = client.post("/surveys/contact-policy/", {"enabled": "on", "min_days_between_surveys": "14",
                                                   "max_invitations": "2", "cap_days": "0",
                                                   "version": policy.version})
    assert bad.status_code == 400 and "the period the limit counts over" in bad.content.decode()


def test_a_recurring_campaign_shows_its_funnel_per_run(org_a, client):
    audience = Audience.objects.create(organization=org_a, name="L", kind=Audience.Kind.LIST)
    AudienceMember.objects.bulk_create([AudienceMember(audience=audience, customer=factories.customer(org_a))
                                        for _ in range(2)])
    first_run = timezone.now() + timedelta(hours=1)
    campaign = factories.campaign(org_a, audience=audience, recurrence="weekly")
    services.schedule(campaign=campaign, send_at=first_run)
    services.start_run(campaign_id=campaign.pk, now=first_run)
    AudienceMember.objects.create(audience=audience, customer=factories.customer(org_a))
    services.start_run(campaign_id=campaign.pk, now=first_run + timedelta(days=7))
    url = reverse("invitations:campaign_detail", args=[campaign.pk])
    page = client.get(url)
    assert "?run=2" in page.content.decode() and page.context["funnel"].queued == 5
    assert client.get(url + "?run=1").context["funnel"].queued == 2
    assert client.get(url + "?run=2").context["funnel"].queued == 3


def test_a_draft_whose_time_went_by_is_not_sent_at_once(org_a, client):
    campaign = factories.campaign(org_a, send_at=timezone.now() - timedelta(hours=1))
    page = client.post(reverse("invitations:campaign_schedule", args=[campaign.pk]), follow=True)
    assert "has passed" in page.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == "draft" and not Invitation.objects.exists()


def test_the_campaign_list_shows_each_funnel_in_queries_that_do_not_grow_with_the_campaigns(
        org_a, client, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    first = factories.campaign(org_a)
    factories.invitation(org_a, campaign=first, status=Invitation.Status.SENT, sent_at=timezone.now(),
                         completed_at=timezone.now())
    factories.invitation(org_a, campaign=first, status=Invitation.Status.SKIPPED, skip_reason="policy")
    with CaptureQueriesContext(connection) as one:
        page = client.get(reverse("invitations:campaign_list"))
    assert ">100.0 %</td>" in page.content.decode()  # one sent, one completed (the skip is no send)
    for _ in range(4):
        factories.invitation(org_a, campaign=factories.campaign(org_a), status=Invitation.Status.SENT,
                             sent_at=timezone.now())
    with django_assert_max_num_queries(len(one.captured_queries)):
        client.get(reverse("invitations:campaign_list"))
