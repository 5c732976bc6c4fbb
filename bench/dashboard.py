"""The metrics engine at a million answers: the dashboard's server time, the full rollup rebuild,
and — the physical reference — one raw aggregate query of NPS by touchpoint × week.

Targets: the dashboard's p95 below the single raw aggregate query (it reads rollups, not
responses), and a full rebuild at ≥ 100,000 responses per second.
"""

import os
import time

from django.db import connection
from django.test import Client

from .common import scored_organization, size, summary, timed

RESPONSES = int(os.environ.get("BENCH_RESPONSES", size(1_000_000, 3_000)))
DAYS = 730
SLUG = "bench-dashboard"


def _populate(org, surveys, touchpoints, channels, customers, question):
    """A million responses spread over two years, written by PostgreSQL itself (fast); three in
    four of the first survey's answer its choice question."""
    from surveys.models import Answer, Response, ResponseTheme

    table = Response._meta.db_table
    themes = ResponseTheme._meta.db_table
    answers = Answer._meta.db_table
    survey_ids = "{" + ",".join(str(s.pk) for s in surveys) + "}"
    tp_ids = "{" + ",".join(str(t.pk) for t in touchpoints) + "}"
    ch_ids = "{" + ",".join(str(c.pk) for c in channels) + "}"
    cu_ids = "{" + ",".join(str(c.pk) for c in customers) + "}"
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {themes} WHERE organization_id = %s", [org.pk])  # noqa: S608
        cursor.execute(f"DELETE FROM {answers} WHERE question_id = %s", [question.pk])  # noqa: S608
        cursor.execute(f"DELETE FROM {table} WHERE organization_id = %s", [org.pk])  # noqa: S608
        cursor.execute(
            f"""
            INSERT INTO {table} (organization_id, survey_id, touchpoint_id, channel_id, customer_id, token,
                client_key, language, score, band, comment, sentiment, hidden_fields, status, source, started_at,
                submitted_at, updated_at)
            SELECT %(org)s, s.ids[1 + (g %% array_length(s.ids, 1))], t.ids[1 + (g %% 7)], c.ids[1 + (g %% 5)],
                   cu.ids[1 + (g %% array_length(cu.ids, 1))], md5(g::text || 'bench')::uuid, '',
                   (ARRAY['ru','en','lv'])[1 + (g %% 3)],
                   CASE WHEN g %% 41 = 0 THEN NULL ELSE (g::bigint * 7919) %% 11 END, '',
                   CASE WHEN g %% 3 = 0 THEN 'comment' ELSE '' END,
                   CASE WHEN g %% 3 = 0 THEN (g %% 7) %% 3 - 1 END, '{{}}',
                   CASE WHEN g %% 41 = 0 THEN 'abandoned' ELSE 'completed' END, 'web',
                   now() - ((g %% {DAYS}) || ' days')::interval - ((g %% 1440) || ' minutes')::interval,
                   now() - ((g %% {DAYS}) || ' days')::interval - ((g %% 1440) || ' minutes')::interval, now()
            FROM generate_series(1, %(n)s) AS g,
                 (SELECT %(surveys)s::bigint[] AS ids) s, (SELECT %(tps)s::bigint[] AS ids) t,
                 (SELECT %(chs)s::bigint[] AS ids) c, (SELECT %(cus)s::bigint[] AS ids) cu
            """,  # noqa: S608 — our own table and integers
            {"org": org.pk, "n": RESPONSES, "surveys": survey_ids, "tps": tp_ids, "chs": ch_ids, "cus": cu_ids},
        )
        # Every comment has three of 300 themes (a long tail, as real comments have).
        cursor.execute(
            f"""
            INSERT INTO {themes} (organization_id, response_id, phrase)
            SELECT r.organization_id, r.id, 'theme ' || ((r.id * k * 7919) %% 300)
            FROM {table} r, generate_series(1, 3) AS k
            WHERE r.organization_id = %s AND r.comment <> ''
            ON CONFLICT DO NOTHING
            """,  # noqa: S608 — our own tables
            [org.pk],
        )
        cursor.execute(
            f"""
            INSERT INTO {answers} (response_id, question_id, text, choices, grid)
            SELECT r.id, %s, '', jsonb_build_array((ARRAY['city','pro','cargo'])[1 + r.id %% 3]), '{{}}'
            FROM {table} r WHERE r.survey_id = %s AND r.id %% 4 <> 0
            """,  # noqa: S608 — our own tables
            [question.pk, surveys[0].pk],
        )
        cursor.execute(f"ANALYZE {table}")
        cursor.execute(f"ANALYZE {themes}")
        cursor.execute(f"ANALYZE {answers}")


def _fixtures():
    from surveys.models import Question

    org, surveys, touchpoints, channels, customers, user = scored_organization(
        slug=SLUG, name="Bench", manager="bench-manager", customer_prefix="B")
    question, _ = Question.objects.get_or_create(
        survey=surveys[0], key="model",
        defaults={"organization": org, "kind": Question.Kind.SINGLE_CHOICE, "text": {"en": "Which scooter?"},
                  "choices": [{"value": v, "label": {"en": v}} for v in ("city", "pro", "cargo")]})
    return org, surveys, touchpoints, channels, customers, user, question


def run():
    from metrics.services import rebuild_range
    from surveys.models import Response

    org, surveys, touchpoints, channels, customers, user, question = _fixtures()
    started = time.perf_counter()
    _populate(org, surveys, touchpoints, channels, customers, question)
    populate_s = time.perf_counter() - started
    count = Response.objects.filter(organization=org).count()

    from django.utils import timezone

    today = timezone.now().date()
    from datetime import timedelta

    started = time.perf_counter()
    rebuild_range(org, today - timedelta(days=DAYS + 1), today + timedelta(days=1), chunk_days=800)
    rebuild_s = time.perf_counter() - started

    table = Response._meta.db_table
    raw_sql = (
        f"SELECT touchpoint_id, date_trunc('week', coalesce(submitted_at, started_at)) AS week, "  # noqa: S608
        f"100.0 * (count(*) FILTER (WHERE score >= 9) - count(*) FILTER (WHERE score <= 6)) / "
        f"nullif(count(score), 0) FROM {table} WHERE organization_id = %s GROUP BY 1, 2"
    )

    def raw_query():
        with connection.cursor() as cursor:
            cursor.execute(raw_sql, [org.pk])
            cursor.fetchall()

    raw_query()  # warm the cache the same way the dashboard's queries get warmed
    raw = summary(timed(raw_query, 5))

    client = Client()
    client.force_login(user)
    year_ago = (today - timedelta(days=365)).isoformat()
    filters = [
        {},
        {"from": year_ago, "to": today.isoformat()},
        {"from": (today - timedelta(days=729)).isoformat(), "to": today.isoformat()},
        {"touchpoint": touchpoints[0].pk, "from": year_ago},
        {"channel": channels[1].pk, "language": "ru", "from": year_ago},
        {"segment": "subscription", "survey": surveys[0].pk, "from": year_ago},
        # A choice question: NPS by the option picked, and every figure of one option's answers.
        {"by": question.pk, "from": year_ago},
        {"answer": f"{question.pk}:cargo", "from": year_ago},
    ]
    for params in filters:  # warm-up, and a check that every page renders
        assert client.get("/", params).status_code == 200, params
    samples = []
    for _round in range(5):
        for params in filters:
            samples += timed(lambda params=params: client.get("/", params), 1)
    page = summary(samples)
    theme_samples = []
    for _round in range(5):
        for params in filters:
            theme_samples += timed(lambda params=params: client.get("/metrics/themes/", params), 1)
    themes_fragment = summary(theme_samples)
    return {
        "responses": count,
        "populate_seconds": round(populate_s, 1),
        "rebuild_seconds": round(rebuild_s, 2),
        "rebuild_responses_per_second": round(count / rebuild_s),
        "raw_nps_by_touchpoint_week": raw,
        "dashboard_page": page,
        "ratio_dashboard_p95_to_raw_query_median": round(page["p95_ms"] / raw["median_ms"], 3),
        # From the theme rollup, but the answer filter's scopes are counted from the comments (bench/themes.py).
        "themes_fragment (loaded after the page)": themes_fragment,
        "ratio_themes_p95_to_raw_query_median": round(themes_fragment["p95_ms"] / raw["median_ms"], 3),
    }
