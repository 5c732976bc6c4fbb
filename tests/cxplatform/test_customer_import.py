"""Customer import (CSV/XLSX) for churn rate and CLV: report, idempotence, tenancy, the page (a
background job with a progress page), the command."""

import io
import json
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from openpyxl import Workbook

from cxplatform import import_jobs, tabular
from cxplatform.customer_import import parse_revenue
from cxplatform.models import Customer, CustomerImportJob, Role
from cxplatform.tabular import ImportFileError

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def import_customers(org, fileobj, name):
    """Import by a job in this process; the finished job is the report."""
    return import_jobs.run_now(CustomerImportJob, organization=org, fileobj=fileobj, name=name)


def errors_by_row(job) -> dict[int, list[str]]:
    return {e["row"]: e["reason"].split("; ") for e in job.errors}

GOOD_AND_BAD = (
    "external_id,name,email,language,active_since,cancelled_on,revenue,attr_plan\n"
    "C-1,Anna,anna@x.example,lv,2024-01-15,,1234.50,purchase\n"  # row 2: good
    "C-2,Boris,not-an-email,xx,2024-13-01,,-5,subscription\n"  # row 3: four problems
    ",Nobody,,,,,,\n"  # row 4: no external id
    "C-3,Clara,clara@x.example,ru,01.02.2024,15.03.2024,\"1 234,50\",subscription\n"  # row 5: good
    "C-4,Dan,,en,2024-05-01,2024-04-01,10,\n"  # row 6: cancelled before active
    "C-1,Again,,,,,,\n"  # row 7: the same external id twice
)


def csv_file(text, name="customers.csv"):
    return io.BytesIO(text.encode("utf-8")), name


def run(org, text, name="customers.csv"):
    fileobj, name = csv_file(text, name)
    return import_customers(org, fileobj, name)


def xlsx_bytes(rows):
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_good_rows_are_saved_and_bad_rows_reported_with_their_row_number(org_a):
    report = run(org_a, GOOD_AND_BAD)

    assert (report.imported_rows, report.updated_rows, report.duplicate_rows) == (2, 0, 0)
    errors = errors_by_row(report)
    assert sorted(errors) == [3, 4, 6, 7]
    assert len(errors[3]) == 4  # e-mail, language, date and revenue, all at once
    assert any("not-an-email" in m for m in errors[3])
    assert any("xx" in m for m in errors[3])
    assert any(m.startswith("active_since:") and "2024-13-01" in m for m in errors[3])
    assert any("negative" in m for m in errors[3])
    assert errors[4] == ["The external id is missing."]
    assert "cancelled_on is before active_since" in errors[6][0]
    assert "row 2" in errors[7][0]

    anna = Customer.objects.get(organization=org_a, external_id="C-1")
    assert (anna.name, anna.email, anna.language) == ("Anna", "anna@x.example", "lv")
    assert anna.active_since == date(2024, 1, 15) and anna.cancelled_on is None
    assert anna.revenue == Decimal("1234.50")
    assert anna.attributes == {"plan": "purchase"}
    clara = Customer.objects.get(organization=org_a, external_id="C-3")
    assert (clara.active_since, clara.cancelled_on) == (date(2024, 2, 1), date(2024, 3, 15))
    assert clara.revenue == Decimal("1234.50")  # "1 234,50": decimal comma, space for thousands
    assert not Customer.objects.filter(external_id__in=["C-2", "C-4", ""]).exists()


def test_reimporting_the_same_file_changes_nothing_and_creates_nothing(org_a):
    run(org_a, GOOD_AND_BAD)
    before = sorted(Customer.objects.for_org(org_a).values_list("pk", "external_id", "revenue", "attributes"))
    again = run(org_a, GOOD_AND_BAD)
    assert (again.imported_rows, again.updated_rows, again.duplicate_rows) == (0, 0, 2)
    assert [e["row"] for e in again.errors] == [3, 4, 6, 7]
    after = sorted(Customer.objects.for_org(org_a).values_list("pk", "external_id", "revenue", "attributes"))
    assert after == before


def test_a_known_external_id_updates_the_customer_and_keeps_what_the_file_does_not_name(org_a):
    customer = Customer.objects.create(
        organization=org_a, external_id="C-9", name="Old name", email="keep@x.example", phone="+371 2000",
        attributes={"plan": "purchase", "city": "Riga"},
    )
    report = run(org_a, "external_id;name;revenue;cancelled_on;attr_plan\nC-9;New name;99,90;;subscription\n")
    assert (report.imported_rows, report.updated_rows, report.duplicate_rows, report.errors) == (0, 1, 0, [])
    customer.refresh_from_db()
    assert customer.name == "New name"
    assert customer.revenue == Decimal("99.90")
    assert customer.email == "keep@x.example" and customer.phone == "+371 2000"  # no such columns
    assert customer.attributes == {"plan": "subscription", "city": "Riga"}
    assert Customer.objects.for_org(org_a).count() == 1


def test_cancellation_checked_against_the_stored_start_date(org_a):
    Customer.objects.create(organization=org_a, external_id="C-1", active_since=date(2024, 6, 1))
    report = run(org_a, "external_id,cancelled_on\nC-1,2024-05-01\n")
    assert report.updated_rows == 0
    assert report.errors[0]["row"] == 2
    assert Customer.objects.get(organization=org_a, external_id="C-1").cancelled_on is None


def test_another_organizations_customer_with_the_same_external_id_is_untouched(org_a, org_b):
    theirs = Customer.objects.create(organization=org_b, external_id="C-1", name="Theirs", revenue=Decimal("5"))
    report = run(org_a, "external_id,name,revenue\nC-1,Ours,10\n")
    assert report.imported_rows == 1 and report.updated_rows == 0
    theirs.refresh_from_db()
    assert (theirs.name, theirs.revenue) == ("Theirs", Decimal("5.00"))
    assert Customer.objects.get(organization=org_a, external_id="C-1").name == "Ours"


def test_xlsx_with_dates_numbers_and_a_formula_that_is_never_evaluated(org_a):
    wb = Workbook()
    ws = wb.active
    ws.append(["External ID", "name", "active_since", "revenue", "attr_city", "phone"])
    ws.append([1001, "=1+1", date(2024, 3, 1), 1500.5, "Riga", 37120000001])
    ws.append(["X-2", "Plain", "31.12.2023", "=2*1000", "Jūrmala", None])
    ws["B2"].data_type = "s"  # a text cell that merely looks like a formula
    out = io.BytesIO()
    wb.save(out)

    report = import_customers(org_a, io.BytesIO(out.getvalue()), "customers.xlsx")

    assert (report.imported_rows, report.errors) == (2, [])
    first = Customer.objects.get(organization=org_a, external_id="1001")
    assert first.name == "=1+1"  # stays the text it is
    assert first.active_since == date(2024, 3, 1)
    assert first.revenue == Decimal("1500.50")
    assert first.phone == "37120000001"
    assert first.attributes == {"city": "Riga"}
    second = Customer.objects.get(organization=org_a, external_id="X-2")
    # A real formula cell: only the value the spreadsheet program saved is read (none here).
    assert second.revenue == Decimal("0.00")
    assert second.active_since == date(2023, 12, 31)


def test_csv_formula_text_is_kept_as_text(org_a):
    run(org_a, 'external_id,name\nC-1,"=HYPERLINK(""http://x.example"")"\n')
    assert Customer.objects.get(organization=org_a).name == '=HYPERLINK("http://x.example")'


@pytest.mark.parametrize(
    ("text", "amount"),
    [("1234.50", "1234.50"), ("1 234,50", "1234.50"), ("1234,5", "1234.50"), ("1,234.50", "1234.50"),
     ("1.234,50", "1234.50"), ("1\u00a0234", "1234.00"), ("", "0.00"), (12.345, "12.35"), (7, "7.00")],
)
def test_revenue_formats(text, amount):
    assert parse_revenue(text) == Decimal(amount)


@pytest.mark.parametrize("text", ["-1", "abc", "1e5", "NaN", "12.3.4"])
def test_revenue_that_is_not_an_amount(text):
    with pytest.raises(ValueError):
        parse_revenue(text)


def test_whole_file_errors(org_a, monkeypatch):
    with pytest.raises(ImportFileError, match="external_id"):
        run(org_a, "name,email\nAnna,a@x.example\n")
    with pytest.raises(ImportFileError, match="csv"):
        run(org_a, "external_id\nC-1\n", name="customers.txt")
    with pytest.raises(ImportFileError, match="empty"):
        run(org_a, "")
    with pytest.raises(ImportFileError, match="Excel"):
        run(org_a, "external_id\nC-1\n", name="customers.xlsx")
    monkeypatch.setattr(tabular, "LIMITS", tabular.Limits(rows=3))
    with pytest.raises(ImportFileError, match="more than 3 rows"):
        run(org_a, "external_id\nC-1\nC-2\nC-3\nC-4\n")
    assert not Customer.objects.for_org(org_a).exists()  # nothing of a rejected file is saved
    assert not CustomerImportJob.objects.exists()


def test_unknown_columns_are_reported_as_ignored(org_a):
    report = run(org_a, "external_id,favourite_colour\nC-1,green\n")
    assert report.imported_rows == 1 and report.ignored_columns == ["favourite_colour"]


def test_page_refuses_viewers_and_agents(org_a, make_member, client_for):
    job = CustomerImportJob.objects.create(organization=org_a, original_name="c.csv")
    for role in (Role.VIEWER, Role.AGENT):
        client = client_for(make_member(org_a, role))
        assert client.get("/customers/import/").status_code == 403
        upload = SimpleUploadedFile("c.csv", b"external_id\nC-1\n", content_type="text/csv")
        assert client.post("/customers/import/", {"file": upload}).status_code == 403
        assert client.get(f"/customers/import/{job.pk}/").status_code == 403
    assert not Customer.objects.for_org(org_a).exists()
    assert CustomerImportJob.objects.count() == 1


@pytest.fixture
def post_upload(django_capture_on_commit_callbacks):
    def post(client, upload):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post("/customers/import/", {"file": upload})

    return post


def test_page_imports_for_a_manager_through_a_job_and_shows_its_report(org_a, make_member, client_for,
                                                                       post_upload):
    manager = make_member(org_a, Role.CX_MANAGER)
    client = client_for(manager)
    page = client.get("/customers/import/")
    assert page.status_code == 200 and b'enctype="multipart/form-data"' in page.content
    assert b"/customers/import/" in client.get("/customers/").content  # linked from the list

    upload = SimpleUploadedFile("c.csv", GOOD_AND_BAD.encode(), content_type="text/csv")
    response = post_upload(client, upload)
    job = CustomerImportJob.objects.get()
    assert response.status_code == 302 and response.url == f"/customers/import/{job.pk}/"
    assert (job.status, job.created_by, job.imported_rows, job.error_rows) == ("done", manager, 2, 4)
    assert not job.file  # deleted with the job done
    assert Customer.objects.for_org(org_a).count() == 2

    html = client.get(response.url).content.decode()
    assert 'id="import-report"' in html and "<td>3</td>" in html and "<td>7</td>" in html
    assert '<span class="value">2</span><span class="label">Created' in html
    assert '<span class="value">4</span><span class="label">bad rows' in html
    assert f'href="/customers/import/{job.pk}/"' in client.get("/customers/import/").content.decode()

    bad = SimpleUploadedFile("c.csv", b"name\nAnna\n", content_type="text/csv")
    response = post_upload(client, bad)
    assert response.status_code == 400 and "external_id" in response.content.decode()
    assert CustomerImportJob.objects.count() == 1


def test_a_second_upload_of_the_same_file_updates_nothing(org_a, make_member, client_for, post_upload):
    client = client_for(make_member(org_a, Role.CX_MANAGER))
    for _ in range(2):
        post_upload(client, SimpleUploadedFile("c.csv", GOOD_AND_BAD.encode()))
    first, second = CustomerImportJob.objects.order_by("id")
    assert (first.imported_rows, first.duplicate_rows) == (2, 0)
    assert (second.imported_rows, second.updated_rows, second.duplicate_rows) == (0, 0, 2)
    html = client.get(f"/customers/import/{second.pk}/").content.decode()
    assert '<span class="value">2</span><span class="label">Unchanged' in html


def test_page_xlsx_upload(org_a, make_member, client_for, post_upload):
    client = client_for(make_member(org_a, Role.ADMIN))
    data = xlsx_bytes([["external_id", "revenue"], ["C-1", 10], ["C-2", "x"]])
    response = post_upload(client, SimpleUploadedFile("c.xlsx", data))
    assert response.status_code == 302
    job = CustomerImportJob.objects.get()
    assert job.imported_rows == 1 and [e["row"] for e in job.errors] == [3]


def test_another_organizations_customer_import_job_is_404(org_a, org_b, make_member, client_for):
    theirs = CustomerImportJob.objects.create(organization=org_b, original_name="theirs.csv")
    client = client_for(make_member(org_a, Role.ADMIN))
    assert client.get(f"/customers/import/{theirs.pk}/").status_code == 404
    assert "theirs.csv" not in client.get("/customers/import/").content.decode()


def test_command_prints_the_report(org_a, tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text(GOOD_AND_BAD, encoding="utf-8")
    out = io.StringIO()
    call_command("import_customers", "--org", "alpha", str(path), stdout=out)
    text = out.getvalue()
    assert "2 created" in text and "row 3:" in text
    out = io.StringIO()
    call_command("import_customers", "--org", "alpha", "--json", str(path), stdout=out)
    report = json.loads(out.getvalue())
    assert (report["created"], report["updated"], report["unchanged"], report["status"]) == (0, 0, 2, "done")
    assert [e["row"] for e in report["errors"]] == [3, 4, 6, 7]


def test_messages_speak_the_members_language(org_a):
    from django.utils import translation

    with translation.override("ru"):
        report = run(org_a, "external_id,revenue\n,-1\n")
    assert errors_by_row(report)[2] == ["Не указан внешний идентификатор (external_id).",
                                        "Выручка не может быть отрицательной."]
