"""Import of inbox items from CSV (comma or semicolon, with or without a UTF-8 BOM) and XLSX: good
rows become items with every column they name (channel and touchpoint by name, any case; the
customer matched or created), bad rows are reported by row number with their reasons and skipped,
the same file imported twice adds nothing, and a file that cannot be read as a whole is refused
with nothing created — through the service, the upload page and `manage.py import_feedback`.
Imported items are routed like every other item."""

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from cxplatform.models import Customer, Role
from feedback import importing
from feedback.models import FeedbackItem, RoutingRule, Tag
from journeys.models import Channel, Touchpoint

pytestmark = pytest.mark.django_db

XSS = "<script>alert(1)</script>"


def _csv(rows, delimiter=",", bom=False, encoding="utf-8") -> io.BytesIO:
    text = io.StringIO()
    csv.writer(text, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    data = text.getvalue().encode(encoding)
    return io.BytesIO((b"\xef\xbb\xbf" if bom else b"") + data)


def _xlsx(rows) -> io.BytesIO:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    out.seek(0)
    return out


def _import(org, rows, name="feedback.csv", **options):
    fileobj = _xlsx(rows) if name.endswith(".xlsx") else _csv(rows, **options)
    return importing.import_items(org, fileobj, name)


@pytest.fixture
def delivery(org_a):
    channel = Channel.objects.create(organization=org_a, name="Mobile app")
    return Touchpoint.objects.create(organization=org_a, name="Delivery", channel=channel)


def test_good_rows_become_items_with_every_column(org_a, delivery):
    known = Customer.objects.create(organization=org_a, name="Ann", email="ann@example.com")
    report = _import(org_a, [
        ["text", "source", "source_id", "received_at", "rating", "language", "channel", "touchpoint",
         "customer_email", "customer_external_id", "customer_name"],
        ["The courier was late", "Review", "tp-1", "2024-03-05 14:30", "3", "EN", "MOBILE APP", "delivery",
         "ANN@example.com", "", ""],
        ["Great support", "call", "", "05.03.2024", "10", "", "", "", "", "CRM-9", "Boris"],
        ["Just text", "", "", "", "", "", "", "", "", "", ""],
    ])
    assert (report.created, report.existing, report.error_rows, report.errors) == (3, 0, 0, [])
    late = FeedbackItem.objects.get(organization=org_a, source_id="tp-1")
    assert late.source == "review" and late.rating == 3 and late.language == "en"
    assert late.received_at == datetime(2024, 3, 5, 14, 30, tzinfo=UTC)
    assert late.touchpoint == delivery and late.channel == delivery.channel
    assert late.customer == known  # matched by e-mail, whatever its case
    praise = FeedbackItem.objects.get(organization=org_a, text="Great support")
    assert praise.source == "call" and praise.rating == 10 and praise.received_at == datetime(2024, 3, 5, tzinfo=UTC)
    assert praise.customer.external_id == "CRM-9" and praise.customer.name == "Boris"
    assert praise.customer.organization == org_a
    plain = FeedbackItem.objects.get(organization=org_a, text="Just text")
    assert plain.source == "import" and plain.rating is None and plain.customer is None
    assert Customer.objects.filter(organization=org_a).count() == 2


def test_a_customer_is_matched_by_external_id_rather_than_created_again(org_a):
    existing = Customer.objects.create(organization=org_a, external_id="CRM-1", name="Old name")
    _import(org_a, [["text", "customer_external_id"], ["One", "CRM-1"], ["Two", "CRM-2"], ["Three", "CRM-2"]])
    assert FeedbackItem.objects.get(text="One").customer == existing
    assert FeedbackItem.objects.get(text="Two").customer == FeedbackItem.objects.get(text="Three").customer
    assert Customer.objects.filter(organization=org_a).count() == 2


def test_a_semicolon_csv_with_a_bom_is_read(org_a, delivery):
    report = _import(org_a, [["text", "rating", "touchpoint", "received_at"],
                             ["Курьер опоздал, доставка 3 дня", "2", "DELIVERY", "01.02.2024 09:15"]],
                     delimiter=";", bom=True)
    assert report.created == 1 and report.errors == []
    item = FeedbackItem.objects.get()
    assert item.text == "Курьер опоздал, доставка 3 дня"  # the comma is text, not a separator
    assert item.rating == 2 and item.touchpoint == delivery
    assert item.received_at == datetime(2024, 2, 1, 9, 15, tzinfo=UTC)


def test_a_comma_csv_with_a_bom_finds_its_text_column(org_a):
    report = _import(org_a, [["text", "source"], ["Hello; world", "email"]], bom=True)
    assert report.created == 1 and FeedbackItem.objects.get().text == "Hello; world"


def test_an_xlsx_file_is_read_with_native_dates_and_numbers(org_a, delivery):
    report = _import(org_a, [
        ["Text", "Rating", "Received_at", "Touchpoint", "source_id"],
        ["From Excel", 7, datetime(2024, 1, 2, 3, 4), "Delivery", 12345],
        [None, None, None, None, None],  # a blank row is skipped, not an error
        ["Float rating", 8.0, None, None, None],
    ], name="feedback.xlsx")
    assert (report.created, report.error_rows) == (2, 0)
    item = FeedbackItem.objects.get(text="From Excel")
    assert item.rating == 7 and item.received_at == datetime(2024, 1, 2, 3, 4, tzinfo=UTC)
    assert item.touchpoint == delivery and item.source_id == "12345"
    assert FeedbackItem.objects.get(text="Float rating").rating == 8


def test_bad_rows_are_reported_by_row_number_and_skipped_while_good_rows_are_kept(org_a, delivery):
    future = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%d %H:%M")
    report = _import(org_a, [
        ["text", "rating", "source", "touchpoint", "received_at", "language"],
        ["Good one", "5", "email", "Delivery", "2024-01-01", "ru"],  # row 2
        ["", "5", "", "", "", ""],  # row 3: empty text
        ["Too high", "11", "", "", "", ""],  # row 4
        ["Not a number", "abc", "", "", "", ""],  # row 5
        ["Faxed", "", "fax", "", "", ""],  # row 6
        ["Where?", "", "", "Moon base", "", ""],  # row 7
        ["Tomorrow", "", "", "", future, ""],  # row 8
        ["Bad date", "", "", "", "31.02.2024", ""],  # row 9
        ["Klingon", "", "", "", "", "tlh"],  # row 10
        ["Two wrongs", "-1", "survey", "", "", ""],  # row 11: a survey comment cannot be imported
        ["Good two", "", "", "", "", ""],  # row 12
    ])
    assert report.created == 2 and report.error_rows == 9
    assert set(FeedbackItem.objects.values_list("text", flat=True)) == {"Good one", "Good two"}
    reasons = {e["row"]: e["errors"] for e in report.errors}
    assert sorted(reasons) == [3, 4, 5, 6, 7, 8, 9, 10, 11]
    assert reasons[3] == ["text: the text is empty."]
    assert reasons[4][0].startswith("rating:") and "11" in reasons[4][0]
    assert reasons[5][0].startswith("rating:") and "abc" in reasons[5][0]
    assert reasons[6][0].startswith("source:") and "fax" in reasons[6][0]
    assert reasons[7] == ["touchpoint: there is no touchpoint “Moon base”."]
    assert reasons[8][0].startswith("received_at:") and "future" in reasons[8][0]
    assert reasons[9][0].startswith("received_at:") and "not a date" in reasons[9][0]
    assert reasons[10][0].startswith("language:") and "tlh" in reasons[10][0]
    assert [r.split(":")[0] for r in reasons[11]] == ["source", "rating"]  # every reason, not only the first


def test_a_bad_customer_email_is_a_row_error_and_creates_no_customer(org_a):
    report = _import(org_a, [["text", "customer_email"], ["Hi", "not-an-address"], ["Fine", "ok@example.com"]])
    assert report.created == 1 and report.errors == [
        {"row": 2, "errors": ["customer_email: “not-an-address” is not an e-mail address."]}]
    assert list(Customer.objects.values_list("email", flat=True)) == ["ok@example.com"]


def test_a_channel_or_touchpoint_of_another_organization_is_unknown(org_a, org_b):
    channel = Channel.objects.create(organization=org_b, name="Their channel")
    Touchpoint.objects.create(organization=org_b, name="Their touchpoint", channel=channel)
    report = _import(org_a, [["text", "channel", "touchpoint"], ["Hi", "Their channel", "Their touchpoint"]])
    assert report.created == 0 and report.error_rows == 1
    assert [r.split(":")[0] for r in report.errors[0]["errors"]] == ["channel", "touchpoint"]
    assert not FeedbackItem.objects.exists()


def test_unknown_columns_are_reported_as_ignored(org_a):
    report = _import(org_a, [["text", "Agent notes", ""], ["Hi", "x", "y"]])
    assert report.created == 1 and report.ignored_columns == ["Agent notes"]


@pytest.mark.parametrize("with_source_id", [True, False])
def test_importing_the_same_file_twice_adds_nothing(org_a, with_source_id):
    header = ["text", "rating", "customer_email"] + (["source_id"] if with_source_id else [])
    rows = [["Row one", "4", "a@example.com"], ["Row two", "", ""], ["Row two", "", "b@example.com"]]
    rows = [row + ([f"id-{n}"] if with_source_id else []) for n, row in enumerate(rows)]
    first = _import(org_a, [header, *rows])
    again = _import(org_a, [header, *rows])
    assert (first.created, first.existing) == (3, 0)
    assert (again.created, again.existing, again.error_rows) == (0, 3, 0)
    assert FeedbackItem.objects.filter(organization=org_a).count() == 3
    assert Customer.objects.filter(organization=org_a).count() == 2


def test_the_same_file_in_two_organizations_makes_an_item_in_each(org_a, org_b):
    rows = [["text", "source_id"], ["Shared", "s-1"]]
    assert _import(org_a, rows).created == 1 and _import(org_b, rows).created == 1
    assert FeedbackItem.objects.filter(source_id="s-1").count() == 2


@pytest.mark.parametrize(("name", "data", "message"), [
    ("feedback.csv", b"comment,rating\r\nHello,5\r\n", "text"),
    ("feedback.csv", b"", "empty"),
    ("feedback.csv", b"\r\n\r\ntext\r\nHello\r\n", "empty"),  # the header must be row 1
    ("feedback.csv", b"text,rating\r\n", "no rows"),
    ("feedback.csv", b"text,TEXT\r\nHello,again\r\n", "more than once"),
    ("feedback.txt", b"text\r\nHello\r\n", ".csv"),
    ("feedback.csv", "text\r\nКурьер опоздал\r\n".encode("cp1251"), "UTF-8"),
    ("feedback.xlsx", b"text\r\nHello\r\n", "Excel"),
])
def test_a_file_that_cannot_be_imported_is_refused_whole(org_a, name, data, message):
    with pytest.raises(importing.ImportFileError) as refused:
        importing.import_items(org_a, io.BytesIO(data), name)
    assert message in str(refused.value)
    assert not FeedbackItem.objects.exists() and not Customer.objects.exists()


def test_a_bad_byte_deep_in_the_file_refuses_it_whole(org_a):
    good = "".join(f"Row {n} is fine\r\n" for n in range(5000)).encode()  # past the 64 KB sample
    data = b"text\r\n" + good + "Курьер\r\n".encode("cp1251")
    with pytest.raises(importing.ImportFileError, match="UTF-8"):
        importing.import_items(org_a, io.BytesIO(data), "feedback.csv")
    assert not FeedbackItem.objects.exists()


def test_imported_items_are_routed(org_a, django_capture_on_commit_callbacks):
    refund = Tag.objects.create(organization=org_a, name="refund request")
    rule = RoutingRule.objects.create(organization=org_a, name="Refunds", keywords="refund",
                                      set_priority=FeedbackItem.Priority.HIGH)
    rule.add_tags.add(refund)
    with django_capture_on_commit_callbacks(execute=True):
        report = _import(org_a, [["text"], ["I want a refund now"], ["All good, thanks"]])
    assert report.created == 2
    routed = FeedbackItem.objects.get(text="I want a refund now")
    assert list(routed.tags.all()) == [refund] and routed.priority == FeedbackItem.Priority.HIGH
    assert routed.events.filter(action="routed").exists()
    other = FeedbackItem.objects.get(text="All good, thanks")
    assert not other.tags.exists() and other.priority == FeedbackItem.Priority.NORMAL


# --- The upload page ------------------------------------------------------------------------------

def _upload(client, rows, name="feedback.csv", data=None):
    content = data if data is not None else _csv(rows).getvalue()
    return client.post("/inbox/import/", {"file": SimpleUploadedFile(name, content)})


def test_an_agent_uploads_a_file_and_sees_the_report(org_a, make_member, client_for):
    agent = make_member(org_a, Role.AGENT)
    client = client_for(agent)
    assert client.get("/inbox/import/").status_code == 200
    answer = _upload(client, [["text", "rating"], ["Good", "5"], ["Bad", "abc"], ["Also good", ""]])
    assert answer.status_code == 200
    report = answer.context["report"]
    assert (report.created, report.error_rows) == (2, 1) and report.errors[0]["row"] == 3
    page = answer.content.decode()
    assert 'id="import-report"' in page and "abc" in page
    assert FeedbackItem.objects.filter(organization=org_a).count() == 2
    assert FeedbackItem.objects.get(text="Good").events.get(action="received").actor == agent


def test_an_xlsx_upload_works(org_a, make_member, client_for):
    client = client_for(make_member(org_a, Role.AGENT))
    answer = _upload(client, None, name="f.xlsx", data=_xlsx([["text"], ["From a workbook"]]).getvalue())
    assert answer.status_code == 200 and answer.context["report"].created == 1
    assert FeedbackItem.objects.get().text == "From a workbook"


def test_a_viewer_cannot_import(org_a, make_member, client_for):
    client = client_for(make_member(org_a, Role.VIEWER))
    assert client.get("/inbox/import/").status_code == 403
    assert _upload(client, [["text"], ["Sneaky"]]).status_code == 403
    assert not FeedbackItem.objects.exists()


def test_an_anonymous_visitor_is_sent_to_log_in(client):
    answer = client.post("/inbox/import/", {"file": SimpleUploadedFile("f.csv", b"text\r\nHi\r\n")})
    assert answer.status_code == 302 and "/login/" in answer["Location"]
    assert not FeedbackItem.objects.exists()


def test_text_from_the_file_is_shown_escaped_in_the_report(org_a, make_member, client_for):
    client = client_for(make_member(org_a, Role.AGENT))
    answer = _upload(client, [["text", "touchpoint", XSS], [XSS, XSS, "x"]])
    page = answer.content.decode()
    assert answer.status_code == 200 and answer.context["report"].error_rows == 1
    assert XSS not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # in the row's reason and the ignored column
    assert not FeedbackItem.objects.exists()


@pytest.mark.parametrize(("name", "data", "message"), [
    ("notes.txt", b"text\r\nHi\r\n", "Only .csv and .xlsx"),
    ("f.csv", b"comment\r\nHi\r\n", "required column"),
    ("f.csv", b"", ""),  # an empty upload is refused by the form itself
])
def test_a_bad_upload_is_refused_with_a_message_and_changes_nothing(org_a, make_member, client_for, name, data,
                                                                  message):
    client = client_for(make_member(org_a, Role.AGENT))
    answer = _upload(client, None, name=name, data=data)
    assert answer.status_code == 400
    assert answer.context["report"] is None and answer.context["form"].errors["file"]
    assert message in answer.content.decode()
    assert not FeedbackItem.objects.exists()


def test_a_file_over_the_web_row_limit_is_refused(org_a, make_member, client_for, monkeypatch):
    monkeypatch.setattr(importing, "MAX_WEB_ROWS", 3)
    client = client_for(make_member(org_a, Role.AGENT))
    refused = _upload(client, [["text"], *([f"Row {n}"] for n in range(4))])
    assert refused.status_code == 400 and "more than 3 rows" in refused.content.decode()
    assert not FeedbackItem.objects.exists()
    accepted = _upload(client, [["text"], *([f"Row {n}"] for n in range(3))])
    assert accepted.status_code == 200 and FeedbackItem.objects.count() == 3


def test_a_file_over_the_size_limit_is_refused(org_a, make_member, client_for, monkeypatch):
    monkeypatch.setattr(importing, "MAX_UPLOAD_BYTES", 10)
    client = client_for(make_member(org_a, Role.AGENT))
    answer = _upload(client, [["text"], ["A row longer than ten bytes"]])
    assert answer.status_code == 400 and answer.context["form"].errors["file"]
    assert not FeedbackItem.objects.exists()


def test_the_upload_goes_to_the_users_organization(org_a, org_b, make_member, client_for):
    _upload(client_for(make_member(org_b, Role.AGENT)), [["text"], ["Bee"]])
    assert FeedbackItem.objects.get().organization == org_b


# --- manage.py import_feedback --------------------------------------------------------------------

@pytest.fixture
def feedback_file(tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_bytes(_csv([["text", "rating", "Extra"], ["Nice", "9", "x"], ["Broken", "99", "y"]]).getvalue())
    return path


def test_the_command_imports_and_prints_a_summary(org_a, feedback_file):
    out = io.StringIO()
    call_command("import_feedback", "--org", "alpha", str(feedback_file), stdout=out)
    printed = out.getvalue()
    assert "row 3: rating" in printed and "ignored columns: Extra" in printed
    assert "1 created, 0 already there, 1 rows with errors" in printed
    assert list(FeedbackItem.objects.values_list("organization__slug", "text", "rating")) == [("alpha", "Nice", 9)]
    again = io.StringIO()
    call_command("import_feedback", "--org", "alpha", str(feedback_file), stdout=again)
    assert "0 created, 1 already there" in again.getvalue() and FeedbackItem.objects.count() == 1


def test_the_command_prints_json(org_a, feedback_file):
    out = io.StringIO()
    call_command("import_feedback", "--org", "alpha", "--json", str(feedback_file), stdout=out)
    report = json.loads(out.getvalue())
    assert report["created"] == 1 and report["existing"] == 0 and report["error_rows"] == 1
    assert report["errors"][0]["row"] == 3 and report["ignored_columns"] == ["Extra"]


def test_the_command_has_no_web_row_limit(org_a, tmp_path, monkeypatch):
    monkeypatch.setattr(importing, "MAX_WEB_ROWS", 2)
    path = tmp_path / "many.csv"
    path.write_bytes(_csv([["text"], *([f"Row {n}"] for n in range(5))]).getvalue())
    call_command("import_feedback", "--org", "alpha", str(path), stdout=io.StringIO())
    assert FeedbackItem.objects.count() == 5


def test_the_command_refuses_an_unknown_organization(org_a, feedback_file):
    with pytest.raises(CommandError, match="No organization with slug 'nope'"):
        call_command("import_feedback", "--org", "nope", str(feedback_file), stdout=io.StringIO())
    assert not FeedbackItem.objects.exists()


def test_the_command_refuses_a_missing_or_unreadable_file(org_a, tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_feedback", "--org", "alpha", str(tmp_path / "missing.csv"), stdout=io.StringIO())
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"comment\r\nHi\r\n")
    with pytest.raises(CommandError, match="required column"):
        call_command("import_feedback", "--org", "alpha", str(bad), stdout=io.StringIO())
    assert not FeedbackItem.objects.exists()
