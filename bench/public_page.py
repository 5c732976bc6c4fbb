"""The public survey page: server time to show it and to record an answer, against the raw
database doing the least it must (one INSERT of a response row)."""

import uuid

from django.db import connection
from django.test import Client
from django.utils import timezone

from .common import size, summary, timed

REPEAT = size(300, 10)


def run():
    from cxplatform.models import Organization
    from journeys.models import Touchpoint
    from surveys.models import Distribution, Response, Survey
    from surveys.services import save_survey

    org, _ = Organization.objects.get_or_create(slug="bench-public", defaults={"name": "Bench public"})
    survey = Survey.objects.filter(organization=org).first() or save_survey(
        Survey(organization=org, name="Bench NPS", survey_type="nps", status="active"), {}, fill_defaults=True)
    touchpoint, _ = Touchpoint.objects.get_or_create(organization=org, name="Bench touchpoint")
    link, _ = Distribution.objects.get_or_create(organization=org, survey=survey, name="Bench link",
                                                 defaults={"touchpoint": touchpoint})
    client = Client(REMOTE_ADDR="127.0.0.1")
    url = f"/s/{link.public_id}/"

    from django.conf import settings

    settings.RATE_LIMIT_PER_LINK_IP = 10**9  # the benchmark is one client sending many answers

    # A link without a visit token redirects to one with it (one answer per visit): measure the page.
    visit = client.get(url)["Location"]
    page_bytes = len(client.get(visit).content)
    show = timed(lambda: client.get(visit), REPEAT)
    record = timed(lambda: client.post(url, {"token": str(uuid.uuid4()), "score": "7", "comment": "ok"}), REPEAT)
    # The benchmark runs without a broker, so `record_answer` includes the follow-up work delivered
    # in-process on commit (the comment's reading, the inbox, the marks); with workers, the
    # customer waits only for this.
    from unittest import mock

    from cxplatform import events

    with mock.patch.object(events, "enqueue"):
        web_only = timed(lambda: client.post(url, {"token": str(uuid.uuid4()), "score": "3",
                                                   "comment": "Courier was late again"}), REPEAT)

    table = Response._meta.db_table

    def raw_insert():
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (organization_id, survey_id, distribution_id, touchpoint_id, token, "  # noqa: S608
                "client_key, language, score, band, comment, hidden_fields, status, source, started_at, "
                "submitted_at, updated_at) VALUES (%s, %s, %s, %s, %s, '', 'en', 7, 'passive', 'ok', '{}', "
                "'completed', 'web', %s, %s, %s)",
                [org.pk, survey.pk, link.pk, touchpoint.pk, str(uuid.uuid4()), timezone.now(), timezone.now(),
                 timezone.now()],
            )

    raw = timed(raw_insert, REPEAT)
    cost = answer_cost(client, url)
    show_s, record_s, raw_s = summary(show), summary(record), summary(raw)
    return {
        "page_bytes": page_bytes,
        "show_page": show_s,
        "record_answer": record_s,
        "record_answer_web_request_only": summary(web_only),
        "raw_insert": raw_s,
        "ratio_record_to_raw_median": round(record_s["median_ms"] / raw_s["median_ms"], 1),
        "one_answer_in_the_web_request": cost,
    }


def answer_cost(client, url) -> dict:
    """What one answer costs the web request itself (its event handed to the workers, not run):
    SQL statements, savepoints, and committing transactions — each outermost atomic block's
    COMMIT plus every write made outside one (autocommit)."""
    from unittest import mock

    from cxplatform import events

    seen = []

    def record(execute, sql, params, many, context):
        seen.append((sql.split(None, 1)[0].upper(), connection.in_atomic_block))
        return execute(sql, params, many, context)

    with mock.patch.object(events, "enqueue"), connection.execute_wrapper(record), \
            mock.patch.object(connection, "commit", wraps=connection.commit) as commits:
        client.post(url, {"token": str(uuid.uuid4()), "score": "3", "comment": "Courier was late again"})
    control = {"SAVEPOINT", "RELEASE", "ROLLBACK"}
    return {
        "statements": sum(verb not in control for verb, _ in seen),
        "savepoints": sum(verb == "SAVEPOINT" for verb, _ in seen),
        "commits": commits.call_count + sum(verb in {"INSERT", "UPDATE", "DELETE"} and not atomic
                                            for verb, atomic in seen),
    }
