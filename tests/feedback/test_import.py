"""Import of inbox items from CSV (comma or semicolon, with or without a UTF-8 BOM) and XLSX: good
rows become items with every column they name (channel and touchpoint by name, any case; the
customer matched or created), bad rows are reported by row number with their reasons and skipped,
the same file imported twice adds nothing, and a file that cannot be read as a whole is refused
with nothing created — through the import job, the upload page (a background job with a progress
page) and `manage.py import_feedback`. Imported items are routed like every other item."""

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from cxplatform import import_jobs, tabular
from cxplatform.models import Customer, Role
from cxplatform.tabular import ImportFileError
from feedback import importing
from feedback.models import FeedbackImportJob, FeedbackItem, RoutingRule, Tag
from journeys.models import Channel, Touchpoint

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"

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


def _run(org, fileobj, name):
    return import_jobs.run_now(FeedbackImportJob, organization=org, fileobj=fileobj, name=name)


def _import(org, rows, name="feedback.csv", **options):
    """The rows as a file, imported by a job in this process: the finished job is the report."""
    fileobj = _xlsx(rows) if name.endswith(".xlsx") else _csv(rows, **options)
    return _run(org, fileobj, name)


def _reasons(job) -> dict[int, list[str]]:
    return {e["row"]: e["reason"].split("; ") for e in job.errors}


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
    assert (report.imported_rows, report.duplicate_rows, report.error_rows, report.errors) == (3, 0, 0, [])
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
    assert report.imported_rows == 1 and report.errors == []
    item = FeedbackItem.objects.get()
    assert item.text == "Курьер опоздал, доставка 3 дня"  # the comma is text, not a separator
    assert item.rating == 2 and item.touchpoint == delivery
    assert item.received_at == datetime(2024, 2, 1, 9, 15, tzinfo=UTC)


def test_a_comma_csv_with_a_bom_finds_its_text_column(org_a):
    report = _import(org_a, [["text", "source"], ["Hello; world", "email"]], bom=True)
    assert report.imported_rows == 1 and FeedbackItem.objects.get().text == "Hello; world"


def test_an_xlsx_file_is_read_with_native_dates_and_numbers(org_a, delivery):
    report = _import(org_a, [
        ["Text", "Rating", "Received_at", "Touchpoint", "source_id"],
        ["From Excel", 7, datetime(2024, 1, 2, 3, 4), "Delivery", 12345],
        [None, None, None, None, None],  # a blank row is skipped, not an error
        ["Float rating", 8.0, None, None, None],
    ], name="feedback.xlsx")
    assert (report.imported_rows, report.error_rows) == (2, 0)
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
    assert report.imported_rows == 2 and report.error_rows == 9
    assert set(FeedbackItem.objects.values_list("text", flat=True)) == {"Good one", "Good two"}
    reasons = _reasons(report)
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
    assert report.imported_rows == 1 and report.errors == [
        {"row": 2, "reason": "customer_email: “not-an-address” is not an e-mail address."}]
    assert list(Customer.objects.values_list("email", flat=True)) == ["ok@example.com"]


def test_a_channel_or_touchpoint_of_another_organization_is_unknown(org_a, org_b):
    channel = Channel.objects.create(organization=org_b, name="Their channel")
    Touchpoint.objects.create(organization=org_b, name="Their touchpoint", channel=channel)
    report = _import(org_a, [["text", "channel", "touchpoint"], ["Hi", "Their channel", "Their touchpoint"]])
    assert report.imported_rows == 0 and report.error_rows == 1
    assert [r.split(":")[0] for r in _reasons(report)[2]] == ["channel", "touchpoint"]
    assert not FeedbackItem.objects.exists()


def test_unknown_columns_are_reported_as_ignored(org_a):
    report = _import(org_a, [["text", "Agent notes", ""], ["Hi", "x", "y"]])
    assert report.imported_rows == 1 and report.ignored_columns == ["Agent notes"]


@pytest.mark.parametrize("with_source_id", [True, False])
def test_importing_the_same_file_twice_adds_nothing(org_a, with_source_id):
    header = ["text", "rating", "customer_email"] + (["source_id"] if with_source_id else [])
    rows = [["Row one", "4", "a@example.com"], ["Row two", "", ""], ["Row two", "", "b@example.com"]]
    rows = [row + ([f"id-{n}"] if with_source_id else []) for n, row in enumerate(rows)]
    first = _import(org_a, [header, *rows])
    again = _import(org_a, [header, *rows])
    assert (first.imported_rows, first.duplicate_rows) == (3, 0)
    assert (again.imported_rows, again.duplicate_rows, again.error_rows) == (0, 3, 0)
    assert FeedbackItem.objects.filter(organization=org_a).count() == 3
    assert Customer.objects.filter(organization=org_a).count() == 2


def test_the_same_file_in_two_organizations_makes_an_item_in_each(org_a, org_b):
    rows = [["text", "source_id"], ["Shared", "s-1"]]
    assert _import(org_a, rows).imported_rows == 1 and _import(org_b, rows).imported_rows == 1
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
    with pytest.raises(ImportFileError) as refused:
        _run(org_a, io.BytesIO(data), name)
    assert message in str(refused.value)
    assert not FeedbackItem.objects.exists() and not Customer.objects.exists()
    assert not FeedbackImportJob.objects.exists()  # refused before a job was made


def test_a_bad_byte_deep_in_the_file_refuses_it_whole(org_a):
    good = "".join(f"Row {n} is fine\r\n" for n in range(5000)).encode()  # past the 64 KB sample
    data = b"text\r\n" + good + "Курьер\r\n".encode("cp1251")
    with pytest.raises(ImportFileError, match="UTF-8"):
        _run(org_a, io.BytesIO(data), "feedback.csv")
    assert not FeedbackItem.objects.exists()


def test_a_bad_byte_found_by_the_job_fails_it_with_nothing_imported(org_a):
    """The job reads the whole file through the limits before its first row is written (here the
    file changed between the check and the job, as if another kind of problem only the job saw)."""
    good = "".join(f"Row {n} is fine\r\n" for n in range(5000)).encode()
    job = import_jobs.create_job(FeedbackImportJob, organization=org_a, enqueue=False, original_name="f.csv",
                                 upload=ContentFile(b"text\r\n" + good + "Курьер\r\n".encode("cp1251")))
    job = import_jobs.run_job(FeedbackImportJob, job.pk)
    assert job.status == "failed" and "UTF-8" in job.failure
    assert job.processed_rows == 0 and not FeedbackItem.objects.exists()


def test_imported_items_are_routed(org_a, django_capture_on_commit_callbacks):
    refund = Tag.objects.create(organization=org_a, name="refund request")
    rule = RoutingRule.objects.create(organization=org_a, name="Refunds", keywords="refund",
                                      set_priority=FeedbackItem.Priority.HIGH)
    rule.add_tags.add(refund)
    with django_capture_on_commit_callbacks(execute=True):
        report = _import(org_a, [["text"], ["I want a refund now"], ["All good, thanks"]])
    assert report.imported_rows == 2
    routed = FeedbackItem.objects.get(text="I want a refund now")
    assert list(routed.tags.all()) == [refund] and routed.priority == FeedbackItem.Priority.HIGH
    assert routed.events.filter(action="routed").exists()
    other = FeedbackItem.objects.get(text="All good, thanks")
    assert not other.tags.exists() and other.priority == FeedbackItem.Priority.NORMAL


# --- The upload page and the job's page ----------------------------------------------------------

@pytest.fixture
def upload(django_capture_on_commit_callbacks):
    """POST a file to /inbox/import/; the job's task runs on commit, in this process (eager tasks)."""

    def post(client, rows, name="feedback.csv", data=None):
        content = data if data is not None else _csv(rows).getvalue()
        with django_capture_on_commit_callbacks(execute=True):
            return client.post("/inbox/import/", {"file": SimpleUploadedFile(name, content)})

    return post


def test_an_agent_uploads_a_file_then_follows_the_job_to_its_report(org_a, make_member, client_for, upload):
    agent = make_member(org_a, Role.AGENT)
    client = client_for(agent)
    assert client.get("/inbox/import/").status_code == 200
    answer = upload(client, [["text", "rating", "Notes"], ["Good", "5", ""], ["Bad", "abc", ""], ["Also good", "", ""]])
    job = FeedbackImportJob.objects.get()
    assert answer.status_code == 302 and answer.url == f"/inbox/import/{job.pk}/"
    assert (job.status, job.created_by, job.original_name, job.language) == ("done", agent, "feedback.csv", "en")
    assert (job.total_rows, job.processed_rows, job.imported_rows, job.duplicate_rows, job.error_rows) == (
        3, 3, 2, 0, 1)
    assert job.errors == [{"row": 3, "reason": "rating: “abc” is not a whole number from 0 to 10."}]
    assert job.ignored_columns == ["Notes"]
    assert FeedbackItem.objects.filter(organization=org_a).count() == 2
    assert FeedbackItem.objects.get(text="Good").events.get(action="received").actor == agent

    page = client.get(answer.url).content.decode()
    assert "<html" in page and 'id="import-report"' in page
    assert '<span class="value">2</span><span class="label">new items' in page
    assert '<span class="value">1</span><span class="label">bad rows' in page
    assert "<td>3</td><td>rating: “abc” is not a whole number from 0 to 10.</td>" in page
    assert "<code>Notes</code>" in page
    assert 'hx-trigger="every 1s"' not in page  # finished: no more polling
    fragment = client.get(answer.url, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment and 'id="import-progress"' in fragment and "<td>3</td>" in fragment
    # The upload page lists the job.
    listing = client.get("/inbox/import/").content.decode()
    assert f'href="/inbox/import/{job.pk}/"' in listing


def test_the_job_page_polls_itself_while_the_job_runs(org_a, make_member, client_for):
    client = client_for(make_member(org_a, Role.AGENT))
    job = FeedbackImportJob.objects.create(organization=org_a, original_name="f.csv", status="running",
                                           total_rows=2000, processed_rows=500, imported_rows=490, error_rows=10)
    url = f"/inbox/import/{job.pk}/"
    for response in (client.get(url), client.get(url, HTTP_HX_REQUEST="true")):
        html = response.content.decode()
        assert f'hx-get="{url}"' in html and 'hx-trigger="every 1s"' in html
        assert 'value="25"' in html and "500 of 2000 rows" in html
        assert "<script" not in html.split("</header>")[-1]  # htmx attributes only, no inline script


def test_an_xlsx_upload_works(org_a, make_member, client_for, upload):
    client = client_for(make_member(org_a, Role.AGENT))
    answer = upload(client, None, name="f.xlsx", data=_xlsx([["text"], ["From a workbook"]]).getvalue())
    assert answer.status_code == 302 and FeedbackImportJob.objects.get().imported_rows == 1
    assert FeedbackItem.objects.get().text == "From a workbook"


def test_a_viewer_cannot_import_nor_see_a_job(org_a, make_member, client_for, upload):
    client = client_for(make_member(org_a, Role.VIEWER))
    assert client.get("/inbox/import/").status_code == 403
    assert upload(client, [["text"], ["Sneaky"]]).status_code == 403
    job = FeedbackImportJob.objects.create(organization=org_a, original_name="f.csv")
    assert client.get(f"/inbox/import/{job.pk}/").status_code == 403
    assert not FeedbackItem.objects.exists() and FeedbackImportJob.objects.count() == 1


def test_an_anonymous_visitor_is_sent_to_log_in(client):
    answer = client.post("/inbox/import/", {"file": SimpleUploadedFile("f.csv", b"text\r\nHi\r\n")})
    assert answer.status_code == 302 and "/login/" in answer["Location"]
    assert not FeedbackItem.objects.exists() and not FeedbackImportJob.objects.exists()


def test_another_organizations_job_is_404(org_a, org_b, make_member, client_for):
    theirs = FeedbackImportJob.objects.create(organization=org_b, original_name="theirs.csv")
    client = client_for(make_member(org_a, Role.AGENT))
    assert client.get(f"/inbox/import/{theirs.pk}/").status_code == 404
    assert client.get(f"/inbox/import/{theirs.pk + 1000}/").status_code == 404
    assert "theirs.csv" not in client.get("/inbox/import/").content.decode()


def test_text_from_the_file_is_shown_escaped_in_the_report(org_a, make_member, client_for, upload):
    client = client_for(make_member(org_a, Role.AGENT))
    answer = upload(client, [["text", "touchpoint", XSS], [XSS, XSS, "x"]])
    assert answer.status_code == 302 and FeedbackImportJob.objects.get().error_rows == 1
    page = client.get(answer.url).content.decode()
    assert XSS not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # in the row's reason and the ignored column
    assert not FeedbackItem.objects.exists()


@pytest.mark.parametrize(("name", "data", "message"), [
    ("notes.txt", b"text\r\nHi\r\n", "Only .csv and .xlsx"),
    ("f.csv", b"comment\r\nHi\r\n", "required column"),
    ("f.csv", b"text\r\n", "no rows"),
    ("f.xlsx", b"not a workbook", "Excel"),
    ("f.csv", b"", ""),  # an empty upload is refused by the form itself
])
def test_a_bad_upload_is_refused_on_the_form_and_makes_no_job(org_a, make_member, client_for, upload, name, data,
                                                              message):
    client = client_for(make_member(org_a, Role.AGENT))
    answer = upload(client, None, name=name, data=data)
    assert answer.status_code == 400
    assert answer.context["form"].errors["file"]
    assert message in answer.content.decode()
    assert not FeedbackItem.objects.exists() and not FeedbackImportJob.objects.exists()


def test_the_web_import_has_the_shared_row_limit_and_no_other(org_a, make_member, client_for, upload, monkeypatch):
    """The 5,000-row cap of the in-request import is gone: a worker imports; the shared reading limit
    (100,000 rows) is what remains, for the page and the command alike."""
    monkeypatch.setattr(tabular, "LIMITS", tabular.Limits(rows=3))
    client = client_for(make_member(org_a, Role.AGENT))
    refused = upload(client, [["text"], *([f"Row {n}"] for n in range(4))])
    assert refused.status_code == 400 and "more than 3 rows" in refused.content.decode()
    assert not FeedbackItem.objects.exists() and not FeedbackImportJob.objects.exists()
    accepted = upload(client, [["text"], *([f"Row {n}"] for n in range(3))])
    assert accepted.status_code == 302 and FeedbackItem.objects.count() == 3


def test_a_file_over_the_size_limit_is_refused(org_a, make_member, client_for, upload, monkeypatch):
    monkeypatch.setattr(importing, "MAX_UPLOAD_BYTES", 10)
    client = client_for(make_member(org_a, Role.AGENT))
    answer = upload(client, [["text"], ["A row longer than ten bytes"]])
    assert answer.status_code == 400 and answer.context["form"].errors["file"]
    assert not FeedbackItem.objects.exists() and not FeedbackImportJob.objects.exists()


def test_the_upload_goes_to_the_users_organization(org_a, org_b, make_member, client_for, upload):
    upload(client_for(make_member(org_b, Role.AGENT)), [["text"], ["Bee"]])
    assert FeedbackItem.objects.get().organization == org_b
    assert FeedbackImportJob.objects.get().organization == org_b


def test_a_job_is_imported_in_its_uploaders_language(org_a, make_member, client_for, upload):
    client = client_for(make_member(org_a, Role.AGENT))
    client.post("/i18n/setlang/", {"language": "ru", "next": "/inbox/import/"})
    upload(client, [["text", "rating"], ["", "5"]])
    job = FeedbackImportJob.objects.get()
    assert job.language == "ru" and job.error_rows == 1
    assert job.errors[0]["reason"] != "text: the text is empty."  # written in Russian


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


def test_the_command_runs_the_same_job_as_the_page(org_a, feedback_file):
    call_command("import_feedback", "--org", "alpha", str(feedback_file), stdout=io.StringIO())
    job = FeedbackImportJob.objects.get()
    assert (job.status, job.imported_rows, job.error_rows, job.original_name) == ("done", 1, 1, "reviews.csv")
    assert not job.file  # its copy of the file is deleted with the job done


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
