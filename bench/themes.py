"""The themes fragment at a million comments: counted from the comments themselves (before, and
still the fallback under an answer filter) against the daily theme rollup (docs/adr/0033), with
the raw aggregate query over the theme rows as the physical reference, in the same run.

Target: the fragment's p95 below 200 ms at 1,000,000 comments (it was 0.9–1.5 s from the comments).
"""

import os
import time
from datetime import timedelta
from unittest import mock

from django.db import connection
from django.test import Client
from django.utils import timezone

from .common import scored_organization, size, summary, timed

COMMENTS = int(os.environ.get("BENCH_COMMENTS", size(1_000_000, 3_000)))
DAYS = 730
THEMES_PER_COMMENT = 3
SLUG = "bench-themes"


def _populate(org, surveys, touchpoints, channels, customers):
    """A million commented answers over two years, written by PostgreSQL itself. Groups repeat like
    bench/dashboard.py's; each comment names three of 300 themes, the common ones far more often
    (a comment's themes follow a long tail), each with the sign of its own clauses — some none."""
    from surveys.models import Response, ResponseTheme

    table, themes = Response._meta.db_table, ResponseTheme._meta.db_table
    ids = {name: "{" + ",".join(str(o.pk) for o in objects) + "}"
           for name, objects in (("surveys", surveys), ("tps", touchpoints), ("chs", channels), ("cus", customers))}
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {themes} WHERE organization_id = %s", [org.pk])  # noqa: S608
        cursor.execute(f"DELETE FROM {table} WHERE organization_id = %s", [org.pk])  # noqa: S608
        cursor.execute(
            f"""
            INSERT INTO {table} (organization_id, survey_id, touchpoint_id, channel_id, customer_id, token,
                client_key, language, score, band, comment, sentiment, hidden_fields, status, source, started_at,
                submitted_at, updated_at, comment_read)
            SELECT %(org)s, s.ids[1 + (g %% array_length(s.ids, 1))], t.ids[1 + (g %% 7)], c.ids[1 + (g %% 5)],
                   cu.ids[1 + (g %% array_length(cu.ids, 1))], md5(g::text || 'bench-themes')::uuid, '',
                   (ARRAY['ru','en','lv'])[1 + (g %% 3)], (g::bigint * 7919) %% 11, '', 'comment',
                   (g %% 7) %% 3 - 1, '{{}}', 'completed', 'web',
                   now() - ((g %% {DAYS}) || ' days')::interval - ((g %% 1440) || ' minutes')::interval,
                   now() - ((g %% {DAYS}) || ' days')::interval - ((g %% 1440) || ' minutes')::interval, now(), true
            FROM generate_series(1, %(n)s) AS g,
                 (SELECT %(surveys)s::bigint[] AS ids) s, (SELECT %(tps)s::bigint[] AS ids) t,
                 (SELECT %(chs)s::bigint[] AS ids) c, (SELECT %(cus)s::bigint[] AS ids) cu
            """,  # noqa: S608 — our own table and integers
            {"org": org.pk, "n": COMMENTS, **ids},
        )
        cursor.execute(
            f"""
            INSERT INTO {themes} (organization_id, response_id, phrase, sentiment)
            SELECT r.organization_id, r.id,
                   'theme ' || floor(300 * power(((r.id * k * 7919) %% 10007) / 10007.0, 2))::int,
                   CASE WHEN (r.id + k) %% 9 = 0 THEN NULL ELSE ((r.id * 31 + k) %% 3) - 1 END
            FROM {table} r, generate_series(1, {THEMES_PER_COMMENT}) AS k
            WHERE r.organization_id = %s
            ON CONFLICT DO NOTHING
            """,  # noqa: S608 — our own tables and an integer
            [org.pk],
        )
        cursor.execute(f"ANALYZE {table}")
        cursor.execute(f"ANALYZE {themes}")


def _fixtures():
    return scored_organization(slug=SLUG, name="Bench themes", manager="bench-themes-manager", customer_prefix="T")


def run():
    from metrics import selectors
    from metrics.models import ThemeRollup
    from metrics.services import rebuild_range
    from surveys.models import Response, ResponseTheme

    org, surveys, touchpoints, channels, customers, user = _fixtures()
    started = time.perf_counter()
    # Kept from the last run when it has the same size (BENCH_REPOPULATE=1 writes it again).
    if Response.objects.filter(organization=org).count() != COMMENTS or os.environ.get("BENCH_REPOPULATE"):
        _populate(org, surveys, touchpoints, channels, customers)
    populate_s = time.perf_counter() - started
    comments = Response.objects.filter(organization=org).exclude(comment="").count()
    theme_rows = ResponseTheme.objects.filter(organization=org).count()

    today = timezone.now().date()
    started = time.perf_counter()
    rebuild_range(org, today - timedelta(days=DAYS + 1), today + timedelta(days=1), chunk_days=800)
    rebuild_s = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {ThemeRollup._meta.db_table}")
    rollup_rows = ThemeRollup.objects.filter(organization=org).count()

    # The physical reference: one aggregate of the theme rows of two years' comments, by theme.
    raw_sql = (
        f"SELECT t.phrase, count(*), count(*) FILTER (WHERE t.sentiment < 0) "  # noqa: S608 — our own tables
        f"FROM {ResponseTheme._meta.db_table} t JOIN {Response._meta.db_table} r ON r.id = t.response_id "
        f"WHERE r.organization_id = %s GROUP BY 1"
    )

    def raw_query():
        with connection.cursor() as cursor:
            cursor.execute(raw_sql, [org.pk])
            cursor.fetchall()

    raw_query()  # warm the cache as the pages' queries get warmed
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
    ]

    def fragment(rounds):
        for params in filters:  # warm-up, and a check that every fragment renders with themes
            page = client.get("/metrics/themes/", params)
            assert page.status_code == 200 and b"theme " in page.content, params
        samples = []
        for _round in range(rounds):
            for params in filters:
                samples += timed(lambda params=params: client.get("/metrics/themes/", params), 1)
        return summary(samples)

    # Before: every scope counted from the comments (what the fallback still does under an answer filter).
    with mock.patch.object(selectors, "theme_rollup_serves", lambda scope: False):
        from_comments = fragment(3)
    from_rollup = fragment(10)
    return {
        "comments": comments,
        "theme_rows": theme_rows,
        "theme_rollup_rows": rollup_rows,
        "populate_seconds": round(populate_s, 1),
        "rollup_rebuild_seconds (daily, choice and theme rollups)": round(rebuild_s, 2),
        "raw_theme_query_two_years": raw,
        "themes_fragment_from_comments (before)": from_comments,
        "themes_fragment_from_theme_rollup (after)": from_rollup,
        "ratio_rollup_p95_to_comments_p95": round(from_rollup["p95_ms"] / from_comments["p95_ms"], 3),
        "ratio_rollup_p95_to_raw_query_median": round(from_rollup["p95_ms"] / raw["median_ms"], 3),
        "ratio_comments_p95_to_raw_query_median": round(from_comments["p95_ms"] / raw["median_ms"], 3),
    }
