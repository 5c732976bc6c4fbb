"""Import of past responses: CSV and XLSX files, the row report, idempotency, the command and the pages."""

import io
from datetime import UTC, datetime

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import Workbook

from cxplatform import import_jobs
from cxplatform.models import Customer, Role
from journeys.models import Channel, Touchpoint
from surveys import importing, tasks
from surveys.models import ImportJob, Question, Response
from tests import factories

pytestmark = pytest.mark.django_db

HEADER = "submitted_at,score,comment,customer_external_id,email,touchpoint,channel,language,q_topics\n"
GOOD_AND_BAD = (
    HEADER
    + "2024-03-01,9,Great service,C-1,anna@example.com,Checkout,,en,price|speed\n"  # 2: good
    + "01.03.2024 10:30,3,Slow,,bob@example.com,,Phone,ru,speed\n"  # 3: good
    + "2024-03-02,11,Too high,,,,,,\n"  # 4: score out of range
    + "2024-13-45,7,Bad date,,,,,,\n"  # 5: no such date
    + "2024-03-03,8,Hmm,,,Nowhere,,,\n"  # 6: unknown touchpoint
    + "2024-03-04,,No score,,,,,,\n"  # 7: score missing
    + "2024-03-05,8,Hi,,,,,de,\n"  # 8: language we do not speak
    + "2024-03-06,8,bad\x00text,,,,,,\n"  # 9: NUL in the comment
    + "2999-01-01,8,From the future\n"  # 10: future date (and a short row)
    + '2024-03-07T08:00:00Z,10,"two\nlines",C-1,,,,lv,\n'  # 11: good (a quoted newline stays one row)
)
EXPECTED_ERROR_ROWS = [4, 5, 6, 7, 8, 9, 10]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def survey(org_a):
    survey = factories.survey(org_a, "nps")
    web = Channel.objects.create(organization=org_a, name="Web")
    Channel.objects.create(organization=org_a, name="Phone")
    Touchpoint.objects.create(organization=org_a, name="Checkout", channel=web)
    Question.objects.create(
        organization=org_a, survey=survey, kind=Question.Kind.MULTIPLE_CHOICE, key="q_topics", position=1,
        text={"en": "What mattered?"},
        choices=[{"value": "price", "label": {"en": "Price"}}, {"value": "speed", "label": {"en": "Speed"}}],
    )
    return survey


def create_job(survey, data, name="responses.csv"):
    return import_jobs.create_job(ImportJob, organization=survey.organization, survey=survey,
                                  upload=ContentFile(data, name=name), original_name=name, enqueue=False)


def run(survey, content, name="responses.csv", **options):
    """Store `content` as an import job of `survey` and import it synchronously."""
    data = content.encode() if isinstance(content, str) else content
    return import_jobs.run_job(ImportJob, create_job(survey, data, name).pk, **options)


def test_good_rows_are_kept_and_each_bad_row_is_reported_with_its_number_and_reason(survey, org_a):
    job = run(survey, GOOD_AND_BAD)

    assert job.status == ImportJob.Status.DONE
    assert (job.total_rows, job.processed_rows, job.imported_rows, job.duplicate_rows, job.error_rows) == (
        10, 10, 3, 0, 7)
    assert [e["row"] for e in job.errors] == EXPECTED_ERROR_ROWS
    reasons = {e["row"]: e["reason"] for e in job.errors}
    assert reasons[4] == "score: Please choose a score from 0 to 10."
    assert reasons[5].startswith("submitted_at: “2024-13-45” is not a date")
    assert reasons[6] == "touchpoint: There is no touchpoint “Nowhere” in this organization."
    assert reasons[7] == "score: Please choose a score."
    assert reasons[8].startswith("language: “de” is not a language")
    assert reasons[9] == "comment: The text contains a NUL character."
    assert reasons[10] == "submitted_at: The date 2999-01-01 00:00 is in the future."

    imported = Response.objects.filter(organization=org_a, survey=survey).order_by("submitted_at", "id")
    assert imported.count() == 3
    assert all(r.source == Response.Source.IMPORT and r.status == Response.Status.COMPLETED for r in imported)
    first, second, third = imported
    # Row 2: the touchpoint's channel, a new customer, the multiple choice split on "|".
    assert first.submitted_at == datetime(2024, 3, 1, tzinfo=UTC)
    assert (first.score, first.band, first.comment, first.language) == (9, "promoter", "Great service", "en")
    assert (first.touchpoint.name, first.channel.name) == ("Checkout", "Web")
    assert (first.customer.external_id, first.customer.email) == ("C-1", "anna@example.com")
    assert first.answers.get().choices == ["price", "speed"]
    # Row 3: DD.MM.YYYY HH:MM in UTC, a channel without touchpoint, the customer found by e-mail only.
    assert second.submitted_at == datetime(2024, 3, 1, 10, 30, tzinfo=UTC)
    assert (second.channel.name, second.touchpoint, second.language, second.band) == ("Phone", None, "ru", "detractor")
    assert second.customer.email == "bob@example.com"
    # Row 11: the same customer as row 2, matched by external id.
    assert third.customer_id == first.customer_id
    assert (third.comment, third.language) == ("two\nlines", "lv")
    assert Customer.objects.filter(organization=org_a).count() == 2
    assert not Response.objects.filter(comment__in=["Too high", "Bad date", "Hmm", "No score", "Hi"]).exists()


def test_importing_the_same_file_twice_adds_nothing(survey, org_a):
    run(survey, GOOD_AND_BAD)
    again = run(survey, GOOD_AND_BAD)

    assert (again.imported_rows, again.duplicate_rows, again.error_rows) == (0, 3, 7)
    assert Response.objects.filter(organization=org_a).count() == 3
    assert Customer.objects.filter(organization=org_a).count() == 2


def test_response_id_is_the_row_key_and_a_semicolon_file_with_bom_is_read(survey, org_a):
    first = "\ufeffresponse_id;submitted_at;score;comment\nX-1;2024-01-05;7;Fine\nX-2;05.01.2024;10;Super\n"
    job = run(survey, first.encode("utf-8"))
    assert (job.imported_rows, job.error_rows) == (2, 0)
    # The other tool's ids make a row the same row even when its content was corrected since.
    changed = "response_id;submitted_at;score;comment\nX-1;2024-01-05;8;Fine, corrected\nX-3;2024-01-06;6;Meh\n"
    job = run(survey, changed)
    assert (job.imported_rows, job.duplicate_rows) == (1, 1)
    keys = set(Response.objects.filter(organization=org_a).values_list("client_key", flat=True))
    assert keys == {f"import:{survey.pk}:X-1", f"import:{survey.pk}:X-2", f"import:{survey.pk}:X-3"}
    # A duplicate is skipped, not written over: the response keeps what was first imported.
    assert Response.objects.values_list("score", "comment").get(client_key=f"import:{survey.pk}:X-1") == (7, "Fine")


def test_a_file_without_a_required_column_is_rejected_as_a_whole(survey, org_a):
    job = run(survey, "submitted_at,comment\n2024-01-05,no score column\n")
    assert job.status == ImportJob.Status.FAILED
    assert "score" in job.failure and "column" in job.failure
    assert job.imported_rows == 0
    assert not Response.objects.filter(organization=org_a).exists()


def test_a_file_that_is_not_utf8_is_rejected_before_any_row_is_imported(survey, org_a):
    content = ("submitted_at,score,comment\n" + "2024-01-05,9,ok\n" * 5).encode() + "2024-01-06,9,Größe\n".encode(
        "latin-1")
    job = run(survey, content)
    assert job.status == ImportJob.Status.FAILED
    assert "UTF-8" in job.failure
    assert not Response.objects.filter(organization=org_a).exists()


def test_csi_survey_needs_no_score_and_takes_attributes_with_importance(org_a):
    survey = factories.survey(org_a, "csi")
    Question.objects.create(organization=org_a, survey=survey, kind=Question.Kind.CSI_ATTRIBUTE, key="speed",
                            ask_importance=True, text={"en": "Speed"})
    job = run(survey, "submitted_at,speed,speed__importance\n2024-02-01,5,4\n2024-02-01,6,4\n")
    assert (job.imported_rows, job.error_rows) == (1, 1)
    assert job.errors[0]["row"] == 3 and job.errors[0]["reason"].startswith("speed: ")
    answer = Response.objects.get(organization=org_a).answers.get()
    assert (answer.number, answer.importance) == (5, 4)


def test_xlsx_file(survey, org_a):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["submitted_at", "score", "comment", "customer_external_id", "touchpoint", "q_topics"])
    sheet.append([datetime(2024, 5, 2, 9, 15), 10, "Loved it", "C-9", "Checkout", "speed"])  # 2: good
    sheet.append(["03.05.2024", 8.0, "Spreadsheets store numbers as floats", None, None, None])  # 3: good
    sheet.append([None, None, None, None, None, None])  # blank row: skipped, not an error
    sheet.append([datetime(2024, 5, 4), 4.5, "Half a point", None, None, None])  # 5: not a whole number
    sheet.append([datetime(2024, 5, 4), 7, "Unknown choice", None, None, "colour"])  # 6: not an option
    buffer = io.BytesIO()
    workbook.save(buffer)

    job = run(survey, buffer.getvalue(), name="history.xlsx")

    assert job.status == ImportJob.Status.DONE
    assert (job.imported_rows, job.error_rows, job.processed_rows, job.total_rows) == (2, 2, 4, 4)
    assert [(e["row"], e["reason"].split(":")[0]) for e in job.errors] == [(5, "score"), (6, "q_topics")]
    first, second = Response.objects.filter(organization=org_a).order_by("submitted_at")
    assert first.submitted_at == datetime(2024, 5, 2, 9, 15, tzinfo=UTC)
    assert (first.score, first.touchpoint.name, first.customer.external_id) == (10, "Checkout", "C-9")
    assert first.answers.get().choices == ["speed"]
    assert (second.score, second.submitted_at) == (8, datetime(2024, 5, 3, tzinfo=UTC))
    # The same rows again, now from a CSV: the same content, so the same row keys.
    again = run(survey, "submitted_at,score,comment\n2024-05-03,8,Spreadsheets store numbers as floats\n")
    assert (again.imported_rows, again.duplicate_rows) == (0, 1)


def test_the_task_claims_its_job_so_a_second_delivery_does_nothing(survey, org_a):
    job = create_job(survey, GOOD_AND_BAD.encode(), "r.csv")
    assert job.file.name.endswith(".csv") and "r.csv" not in job.file.name  # stored under a random name
    assert tasks.run_import(job.pk) == ImportJob.Status.DONE
    assert tasks.run_import(job.pk) is None
    job.refresh_from_db()
    assert (job.imported_rows, job.duplicate_rows) == (3, 0)
    assert Response.objects.filter(organization=org_a).count() == 3


# --- The management command ------------------------------------------------------------------

def test_command_imports_and_prints_the_summary_and_each_bad_row(survey, org_a, tmp_path):
    path = tmp_path / "history.csv"
    path.write_text(GOOD_AND_BAD, encoding="utf-8")
    out = io.StringIO()

    call_command("import_responses", "--org", "alpha", "--survey", str(survey.pk), str(path), stdout=out)

    output = out.getvalue()
    assert "3 imported, 0 duplicates, 7 errors" in output
    for row in EXPECTED_ERROR_ROWS:
        assert f"row {row}: " in output
    assert "row 4: score: Please choose a score from 0 to 10." in output
    assert Response.objects.filter(organization=org_a, source=Response.Source.IMPORT).count() == 3

    out = io.StringIO()
    call_command("import_responses", "--org", "alpha", "--survey", str(survey.pk), str(path), stdout=out)
    assert "0 imported, 3 duplicates, 7 errors" in out.getvalue()
    assert Response.objects.filter(organization=org_a).count() == 3


def test_command_refuses_unknown_org_survey_and_unreadable_files(survey, org_b, tmp_path):
    path = tmp_path / "history.csv"
    path.write_text(GOOD_AND_BAD, encoding="utf-8")
    with pytest.raises(CommandError, match="No organization"):
        call_command("import_responses", "--org", "nope", "--survey", str(survey.pk), str(path))
    # A survey of another organization is as unknown as one that does not exist.
    with pytest.raises(CommandError, match="No survey"):
        call_command("import_responses", "--org", "beta", "--survey", str(survey.pk), str(path))
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_responses", "--org", "alpha", "--survey", str(survey.pk), str(tmp_path / "missing.csv"))
    bad = tmp_path / "history.pdf"
    bad.write_bytes(b"%PDF-1.4")
    with pytest.raises(CommandError, match=r"\.csv and \.xlsx"):
        call_command("import_responses", "--org", "alpha", "--survey", str(survey.pk), str(bad))
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip")
    with pytest.raises(CommandError, match="Excel workbook"):
        call_command("import_responses", "--org", "alpha", "--survey", str(survey.pk), str(broken))
    assert not Response.objects.exists()
    assert not ImportJob.objects.exists()


# --- The pages -------------------------------------------------------------------------------

def test_upload_through_the_browser_then_progress_and_report(survey, org_a, make_member, client_for,
                                                             django_capture_on_commit_callbacks):
    client = client_for(make_member(org_a, Role.CX_MANAGER))
    url = reverse("surveys:import_create", kwargs={"survey_id": survey.pk})
    page = client.get(url)
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in page.content.decode() and "q_topics" in page.content.decode()

    upload = SimpleUploadedFile("history.csv", GOOD_AND_BAD.encode(), content_type="text/csv")
    # The task is queued on commit (and runs in-process in tests).
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        answer = client.post(url, {"file": upload})
    assert answer.status_code == 302
    assert callbacks, "the import task was not queued on commit"
    job = ImportJob.objects.get(survey=survey)
    assert answer.url == reverse("surveys:import_detail", kwargs={"survey_id": survey.pk, "importjob_id": job.pk})
    assert (job.status, job.original_name, job.imported_rows, job.error_rows) == ("done", "history.csv", 3, 7)
    assert not job.file  # the upload is deleted once its job is done; the report stays
    assert Response.objects.filter(organization=org_a).count() == 3

    detail = client.get(answer.url).content.decode()
    assert '<html' in detail and 'id="import-report"' in detail
    assert '<span class="value">3</span><span class="label">imported' in detail
    assert '<span class="value">7</span><span class="label">bad rows' in detail
    assert "<td>4</td><td>score: Please choose a score from 0 to 10.</td>" in detail
    assert "<td>6</td><td>touchpoint: There is no touchpoint “Nowhere” in this organization.</td>" in detail
    assert 'hx-trigger="every 1s"' not in detail  # finished: no more polling

    fragment = client.get(answer.url, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment and 'id="import-progress"' in fragment
    assert '<span class="value">3</span>' in fragment and "<td>9</td>" in fragment


def test_progress_polls_itself_while_the_import_runs(survey, org_a, make_member, client_for):
    client = client_for(make_member(org_a))
    job = factories.import_job(org_a, survey, status=ImportJob.Status.RUNNING, total_rows=2000, processed_rows=500,
                               imported_rows=480, error_rows=20)
    url = reverse("surveys:import_detail", kwargs={"survey_id": survey.pk, "importjob_id": job.pk})
    for response in (client.get(url), client.get(url, HTTP_HX_REQUEST="true")):
        html = response.content.decode()
        assert f'hx-get="{url}"' in html and 'hx-trigger="every 1s"' in html
        assert 'value="25"' in html and "500 of 2000 rows" in html


def test_upload_rejects_other_files_with_a_clear_form_error(survey, org_a, make_member, client_for):
    client = client_for(make_member(org_a))
    url = reverse("surveys:import_create", kwargs={"survey_id": survey.pk})
    pdf = client.post(url, {"file": SimpleUploadedFile("scan.pdf", b"%PDF-1.4")})
    assert pdf.status_code == 400 and "Only .csv and .xlsx files can be imported." in pdf.content.decode()
    no_score = client.post(url, {"file": SimpleUploadedFile("r.csv", b"submitted_at,comment\n2024-01-01,x\n")})
    assert no_score.status_code == 400 and "required column(s): score" in no_score.content.decode()
    assert not ImportJob.objects.exists()


def test_upload_larger_than_50_mb_is_refused(survey, org_a, make_member, client_for, monkeypatch):
    monkeypatch.setattr(importing, "MAX_UPLOAD_BYTES", 100)
    client = client_for(make_member(org_a))
    url = reverse("surveys:import_create", kwargs={"survey_id": survey.pk})
    answer = client.post(url, {"file": SimpleUploadedFile("big.csv", GOOD_AND_BAD.encode())})
    assert answer.status_code == 400 and "at most 100" in answer.content.decode()
    assert not ImportJob.objects.exists()


def test_a_viewer_cannot_upload(survey, org_a, make_member, client_for):
    client = client_for(make_member(org_a, Role.VIEWER))
    url = reverse("surveys:import_create", kwargs={"survey_id": survey.pk})
    assert client.get(url).status_code == 403
    answer = client.post(url, {"file": SimpleUploadedFile("history.csv", GOOD_AND_BAD.encode())})
    assert answer.status_code == 403
    assert not ImportJob.objects.exists() and not Response.objects.exists()


def test_another_organizations_survey_and_job_are_404(survey, org_a, org_b, make_member, client_for):
    theirs = factories.survey(org_b)
    their_job = factories.import_job(org_b, theirs)
    client = client_for(make_member(org_a))
    assert client.get(reverse("surveys:import_create", kwargs={"survey_id": theirs.pk})).status_code == 404
    answer = client.post(reverse("surveys:import_create", kwargs={"survey_id": theirs.pk}),
                         {"file": SimpleUploadedFile("history.csv", GOOD_AND_BAD.encode())})
    assert answer.status_code == 404
    assert client.get(reverse("surveys:import_detail", kwargs={"survey_id": theirs.pk, "importjob_id": their_job.pk}
                              )).status_code == 404
    # A job of ours is found only under its own survey.
    ours = factories.import_job(org_a, survey)
    other_survey = factories.survey(org_a)
    assert client.get(reverse("surveys:import_detail", kwargs={"survey_id": other_survey.pk, "importjob_id": ours.pk}
                              )).status_code == 404
    assert client.get(reverse("surveys:import_detail", kwargs={"survey_id": survey.pk, "importjob_id": ours.pk}
                              )).status_code == 200
    assert ImportJob.objects.filter(organization=org_b).count() == 1


# --- Volume ----------------------------------------------------------------------------------

def test_five_thousand_rows_import_in_batches(org_a, monkeypatch):
    survey = factories.survey(org_a, "nps")
    Touchpoint.objects.create(organization=org_a, name="Store")
    lines = ["response_id,submitted_at,score,touchpoint,customer_external_id"]
    lines += [f"R{n},2024-{n % 12 + 1:02d}-{n % 28 + 1:02d},{n % 11},Store,C{n % 500}" for n in range(5_000)]
    job = create_job(survey, "\n".join(lines).encode(), "big.csv")
    progress = []
    count = import_jobs._count

    def count_and_watch(job_, processed, saved):
        count(job_, processed, saved)
        progress.append(ImportJob.objects.values_list("processed_rows", flat=True).get(pk=job.pk))

    monkeypatch.setattr(import_jobs, "_count", count_and_watch)
    job = import_jobs.run_job(ImportJob, job.pk)

    assert (job.status, job.total_rows, job.processed_rows, job.imported_rows, job.error_rows) == (
        "done", 5_000, 5_000, 5_000, 0)
    assert Response.objects.filter(organization=org_a, survey=survey).count() == 5_000
    assert Customer.objects.filter(organization=org_a).count() == 500
    # The counters moved batch by batch, for the progress bar.
    assert progress == list(range(500, 5_001, 500))


def test_an_export_of_every_kind_imports_back_as_the_same_answers(org_a):
    """The export's columns are the import's: a matrix per row, a ranking "a > b", choices "a; b",
    the other text in `<key>__other`; a bad value of a new kind is a row error, never a crash."""
    import csv
    import uuid

    from surveys import exporting, selectors, services

    source = factories.survey(org_a, "nps")
    options = [{"value": "a", "label": {"en": "Apple"}}, {"value": "b"}, {"value": "c"}]

    def build(survey):
        factories.question(org_a, survey, kind="multiple_choice", key="many", choices=options, allow_other=True)
        factories.question(org_a, survey, kind="ranking", key="order", choices=options)
        factories.question(org_a, survey, kind="matrix", key="grid", rows=[{"value": "app"}, {"value": "courier"}])
        factories.question(org_a, survey, kind="yes_no", key="again")
        factories.question(org_a, survey, kind="consent", key="gdpr")

    build(source)
    data = {"score": 9, "many": ["a", "_other"], "many__other": "Colour", "order": ["c", "a", "b"],
            "grid": {"app": 4, "courier": 2}, "again": "no", "gdpr": "yes"}
    services.record_response(survey=source, submission=services.clean_submission(source, data, complete=True),
                             complete=True, language="en", token=uuid.uuid4())
    buffer = io.StringIO()
    csv.writer(buffer).writerows(exporting.table(source, selectors.responses(org_a, source)))
    exported = buffer.getvalue()

    target = factories.survey(org_a, "nps")
    build(target)
    job = run(target, exported + exported.splitlines()[1].replace("c > a > b", "c > a") + "\n")
    assert job.imported_rows == 1, job.errors
    assert [e["reason"].split(":")[0] for e in job.errors] == ["order"]
    answers = {a.question.key: a for a in Response.objects.get(survey=target).answers.select_related("question")}
    assert (answers["many"].choices, answers["many"].text) == (["a", "_other"], "Colour")
    assert answers["order"].choices == ["c", "a", "b"]
    assert answers["grid"].grid == {"app": 4, "courier": 2}
    assert (answers["again"].choices, answers["gdpr"].choices) == (["no"], ["yes"])
