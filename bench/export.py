"""The responses export at a million answers: the export job's writer (`surveys.exporting.write_csv`,
as `surveys.export_jobs` runs it) against — the physical reference — PostgreSQL writing the same
columns itself (`COPY (SELECT …) TO STDOUT WITH CSV`, through the driver's copy).

On PostgreSQL the writer is itself a COPY, of a SELECT whose every cell is the export's SQL
expression (formulas made inert, choices joined, hidden fields flattened, pseudonyms looked up);
the rows Python makes (the workbook's, and the CSV's on other databases) are measured beside it.

Two surveys are filled by PostgreSQL itself (generate_series, not the ORM per row): 100,000 and
1,000,000 responses, each with a text answer, a multiple choice (the reference COPY prints its
JSON; the writer joins the choices), a hidden field, a customer, a touchpoint, a channel and a link;
every fifth comment starts with "=" (the writer neutralises it, COPY does not).

Each writer run is a fresh process (`python -m bench.export write SURVEY_ID MODE`), so its peak
resident memory (`VmHWM` after the work minus before it) is that export's alone: the same at both
sizes means memory does not grow with the rows. Target: the writer at ≥ 0.3× COPY's rows per second.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.db import connection

from .common import peak_mb, size

ROOT = Path(__file__).resolve().parent.parent
SLUG = "bench-export"
SIZES = {"small": size(100_000, 2_000), "large": size(1_000_000, 5_000)}
MiB = 1 << 20


def _fixtures():
    from cxplatform.models import Customer, Organization
    from journeys.models import Channel, Touchpoint
    from surveys.models import Distribution, Question, Survey
    from surveys.services import save_survey

    org, _ = Organization.objects.get_or_create(slug=SLUG, defaults={"name": "Bench export"})
    touchpoint, _ = Touchpoint.objects.get_or_create(organization=org, name="Courier delivery")
    channel, _ = Channel.objects.get_or_create(organization=org, name="E-mail")
    if not Customer.objects.filter(organization=org).exists():
        Customer.objects.bulk_create([Customer(organization=org, external_id=f"B{i}", email=f"customer{i}@example.com")
                                      for i in range(3000)])
    surveys = {}
    for name in SIZES:
        survey = Survey.objects.filter(organization=org, name=f"Export {name}").first()
        if survey is None:
            survey = save_survey(Survey(organization=org, name=f"Export {name}", survey_type="nps", status="active"),
                                 {}, fill_defaults=True)
            Question.objects.create(organization=org, survey=survey, key="extra", kind=Question.Kind.TEXT, position=1,
                                    text={"en": "Anything else?"})
            Distribution.objects.create(organization=org, survey=survey, name="Newsletter link", touchpoint=touchpoint)
        if not Question.objects.filter(survey=survey, key="reasons").exists():
            Question.objects.create(organization=org, survey=survey, key="reasons", position=2,
                                    kind=Question.Kind.MULTIPLE_CHOICE, text={"en": "Why?"},
                                    choices=[{"value": v, "label": {"en": v}} for v in ("price", "speed", "staff")])
        surveys[name] = survey
    return org, surveys, touchpoint, channel


def _populate(org, survey, touchpoint, channel, count: int) -> None:
    from cxplatform.models import Customer
    from surveys.models import Answer, Question, Response

    responses, answers = Response._meta.db_table, Answer._meta.db_table
    question = Question.objects.get(survey=survey, key="extra")
    reasons = Question.objects.get(survey=survey, key="reasons")
    link = survey.distributions.get()
    customers = "{" + ",".join(str(pk) for pk in Customer.objects.filter(organization=org)
                               .values_list("pk", flat=True)) + "}"
    with connection.cursor() as cursor:
        # The database's foreign keys do not cascade (Django does): answers first.
        cursor.execute(f"DELETE FROM {answers} WHERE question_id IN (%s, %s)", [question.pk, reasons.pk])  # noqa: S608
        cursor.execute(f"DELETE FROM {responses} WHERE survey_id = %s", [survey.pk])  # noqa: S608
        cursor.execute(
            f"""
            INSERT INTO {responses} (organization_id, survey_id, distribution_id, touchpoint_id, channel_id,
                customer_id, token, client_key, language, score, band, comment, hidden_fields, status, source,
                started_at, submitted_at, updated_at)
            SELECT %(org)s, %(survey)s, %(link)s, %(tp)s, %(ch)s, cu.ids[1 + (g %% array_length(cu.ids, 1))],
                   md5(g::text || ':' || %(survey)s || ':export')::uuid, '',
                   (ARRAY['ru','en','lv'])[1 + (g %% 3)], g %% 11,
                   CASE WHEN g %% 11 >= 9 THEN 'promoter' WHEN g %% 11 >= 7 THEN 'passive' ELSE 'detractor' END,
                   CASE WHEN g %% 5 = 0 THEN '=HYPERLINK("http://x") ' || g ELSE 'Курьер опоздал, но вежлив ' || g END,
                   jsonb_build_object('order', 'A-' || g), 'completed', 'web',
                   now() - (g || ' seconds')::interval, now() - (g || ' seconds')::interval, now()
            FROM generate_series(1, %(n)s) AS g, (SELECT %(cus)s::bigint[] AS ids) cu
            """,  # noqa: S608 — our own table and integers
            {"org": org.pk, "survey": survey.pk, "link": link.pk, "tp": touchpoint.pk, "ch": channel.pk,
             "cus": customers, "n": count},
        )
        cursor.execute(
            f"""
            INSERT INTO {answers} (response_id, question_id, number, importance, text, choices)
            SELECT id, %s, NULL, NULL, 'Answer text of response ' || id, '[]' FROM {responses} WHERE survey_id = %s
            """,  # noqa: S608 — our own tables
            [question.pk, survey.pk],
        )
        # A multiple choice on every response: one, two or three reasons, in their order.
        cursor.execute(
            f"""
            INSERT INTO {answers} (response_id, question_id, number, importance, text, choices)
            SELECT id, %s, NULL, NULL, '',
                   (ARRAY['["price"]', '["speed", "staff"]', '["staff", "price", "speed"]'])[1 + id %% 3]::jsonb
            FROM {responses} WHERE survey_id = %s
            """,  # noqa: S608 — our own tables
            [reasons.pk, survey.pk],
        )
        cursor.execute(f"ANALYZE {responses}")
        cursor.execute(f"ANALYZE {answers}")


def copy_sql(survey) -> str:
    """The export's columns, personal (customer id and e-mail), in its order, written by PostgreSQL."""
    from cxplatform.models import Customer
    from journeys.models import Channel, Touchpoint
    from surveys.models import Answer, Distribution, Question, Response

    question = Question.objects.get(survey=survey, key="extra")
    reasons = Question.objects.get(survey=survey, key="reasons")
    tables = {m.__name__: m._meta.db_table for m in (Response, Touchpoint, Channel, Distribution, Customer, Answer)}
    sql = f"""
        SELECT r.token, r.submitted_at, r.status, r.score, r.band, r.comment, r.language, tp.name AS touchpoint,
               ch.name AS channel, d.name AS distribution, c.external_id AS customer_external_id,
               c.email AS customer_email, r.source, r.hidden_fields ->> 'order' AS hidden_order, a.text AS extra,
               why.choices::text AS reasons
        FROM {tables['Response']} r
        LEFT JOIN {tables['Touchpoint']} tp ON tp.id = r.touchpoint_id
        LEFT JOIN {tables['Channel']} ch ON ch.id = r.channel_id
        LEFT JOIN {tables['Distribution']} d ON d.id = r.distribution_id
        LEFT JOIN {tables['Customer']} c ON c.id = r.customer_id
        LEFT JOIN {tables['Answer']} a ON a.response_id = r.id AND a.question_id = {int(question.pk)}
        LEFT JOIN {tables['Answer']} why ON why.response_id = r.id AND why.question_id = {int(reasons.pk)}
        WHERE r.organization_id = {int(survey.organization_id)} AND r.survey_id = {int(survey.pk)}
        ORDER BY coalesce(r.submitted_at, r.started_at) DESC, r.id DESC
    """  # noqa: S608 — our own tables and integers
    return sql


def _copy(survey) -> dict:
    sql = copy_sql(survey)
    with tempfile.TemporaryFile() as file, connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.cursor.copy_expert(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, HEADER)", file)
        seconds = time.perf_counter() - started
        file.seek(0)
        rows = sum(1 for _ in file) - 1
    return {"rows": rows, "seconds": round(seconds, 2), "rows_per_s": round(rows / seconds)}


WRITERS = {
    "writer": {"personal": True},  # the job's CSV with customers' ids and e-mails
    "writer_pseudonymous": {"personal": False},  # a viewer's: pseudonyms looked up per customer
    "python_rows": {"personal": True, "python": True},  # the rows Python makes (workbook, SQLite)
}


def _write(survey_id: int, mode: str) -> dict:
    """In a fresh process: the export job's writer over one survey, to a temporary file."""
    from surveys import exporting, selectors
    from surveys.models import Survey

    options = WRITERS[mode]
    if options.get("python"):
        exporting.copies = lambda queryset: False
    survey = Survey.objects.select_related("organization").get(pk=survey_id)
    queryset = selectors.responses(survey.organization, survey)
    before = peak_mb()
    with tempfile.TemporaryFile() as file:
        started, cpu = time.perf_counter(), time.process_time()
        rows = exporting.write_csv(survey, queryset, file, personal=options["personal"])
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        file_mb = file.tell() / MiB
    return {"rows": rows, "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2),
            "rows_per_s": round(rows / seconds), "file_mb": round(file_mb, 1),
            "process_before_mb": round(before, 1), "peak_above_before_mb": round(peak_mb() - before, 1)}


def _write_in_child(survey, mode: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "bench.export", "write", str(survey.pk), mode], cwd=ROOT,
                          env=os.environ.copy(), capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def run():
    org, surveys, touchpoint, channel = _fixtures()
    figures = {}
    for name, count in SIZES.items():
        started = time.perf_counter()
        _populate(org, surveys[name], touchpoint, channel, count)
        populate_s = time.perf_counter() - started
        # Interleaved: the reference between the writers, so a machine slowing down hits both.
        writers = {"writer": _write_in_child(surveys[name], "writer")}
        copy = _copy(surveys[name])
        writers["writer_pseudonymous"] = _write_in_child(surveys[name], "writer_pseudonymous")
        writers["python_rows"] = _write_in_child(surveys[name], "python_rows")
        assert {w["rows"] for w in writers.values()} == {copy["rows"]} == {count}, (writers, copy, count)
        figures[f"{count}_responses"] = {
            "populate_s": round(populate_s, 1),
            **writers,
            "copy": copy,
            **{f"ratio_{mode}_to_copy": round(w["rows_per_s"] / copy["rows_per_s"], 2) for mode, w in writers.items()},
        }
    return figures


if __name__ == "__main__" and sys.argv[1:2] == ["write"]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxplatform.settings")
    import django

    django.setup()
    print(json.dumps(_write(int(sys.argv[2]), sys.argv[3])))
