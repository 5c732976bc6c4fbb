"""The inbox at a million items: the list page's server time with filters and full-text search,
against — the physical reference — PostgreSQL answering the page's own main query alone.

Target: p95 of the list page under 100 ms with a filter and a search.
"""

import os
import time

from django.db import connection
from django.test import Client

from .common import size, summary, timed

ITEMS = int(os.environ.get("BENCH_ITEMS", size(1_000_000, 3_000)))
DAYS = 730
SLUG = "bench-inbox"
AGENTS = 20

# Texts made of a subject and a detail in three languages, so searches hit common and rare words.
SUBJECTS = [
    "Курьер опоздал с доставкой", "Самокат не заряжается", "Приложение не видит самокат", "Хочу вернуть деньги",
    "Отличный самокат, спасибо", "The courier was late with my delivery", "My scooter will not charge",
    "The app cannot find my scooter", "I want a refund for my order", "Great scooter, thank you",
    "Kurjers kavēja piegādi", "Skrejritenis neuzlādējas", "Lietotne neredz skrejriteni", "Lielisks skrejritenis",
]
DETAILS = [
    "уже третий раз", "и никто не перезвонил", "заказ номер {n}", "please call me back", "order number {n}",
    "this is the second time", "lūdzu, piezvaniet", "pasūtījums {n}", "", "батарея держит мало",
    "the battery range is poor", "very disappointed", "очень доволен", "ļoti apmierināts",
]


def _search_words() -> dict:
    """The search words of the subjects and details (made by the application's normaliser, as the
    items' own would be), for SQL to join like the texts: " subject words " + "detail words "."""
    from cxplatform.textinsight.tokens import search_text, search_words

    details = []
    for detail in DETAILS:
        words = search_words(detail.replace("{n}", ""))
        details.append(" ".join([*words, "{n}"] if "{n}" in detail else words) + (" " if words else ""))
    return {"subject_words": [search_text(s) for s in SUBJECTS], "detail_words": details}


def _populate(org, agents, tags, teams, touchpoints):
    """A million items over two years, written by PostgreSQL itself: ~5% still open (a team that
    keeps up), a tenth with a tag, every priority, SLA states on the open ones. Fields come from
    different digits of the row number, so filters combine as in real data rather than cancel out."""
    from feedback.models import FeedbackItem

    table = FeedbackItem._meta.db_table
    through = FeedbackItem.tags.through._meta.db_table
    ids = lambda objs: "{" + ",".join(str(o.pk) for o in objs) + "}"  # noqa: E731
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {through} WHERE feedbackitem_id IN (SELECT id FROM {table} "  # noqa: S608
                       f"WHERE organization_id = %s)", [org.pk])
        cursor.execute(f"DELETE FROM {table} WHERE organization_id = %s", [org.pk])  # noqa: S608
        cursor.execute(
            f"""
            INSERT INTO {table} (organization_id, source, source_id, text, search_words, rating, language, sentiment,
                received_at, status, priority, team_id, assignee_id, touchpoint_id, version, sla_state, created_at,
                updated_at, first_response_due, resolution_due, kind, loop_state, resolution_note, follow_up_wanted,
                text_message, text_read)
            SELECT %(org)s, (ARRAY['survey','email','chat','review','social','call'])[1 + ((g / 2) %% 6)], 'b' || g,
                   subj.v[1 + (g %% array_length(subj.v, 1))] || ' ' ||
                       replace(det.v[1 + ((g / 7) %% array_length(det.v, 1))], '{{n}}', (g %% 100000)::text),
                   subjw.v[1 + (g %% array_length(subjw.v, 1))] ||
                       replace(detw.v[1 + ((g / 7) %% array_length(detw.v, 1))], '{{n}}', (g %% 100000)::text),
                   CASE WHEN g %% 4 = 0 THEN (g::bigint * 7919) %% 11 END, (ARRAY['ru','en','lv'])[1 + ((g / 3) %% 3)],
                   ((g / 56) %% 3) - 1,
                   now() - (((%(n)s - g)::float / %(n)s * {DAYS}) || ' days')::interval,
                   CASE WHEN g > %(n)s * 0.95 THEN (ARRAY['new','open','waiting'])[1 + (g %% 3)]
                        ELSE (ARRAY['resolved','closed'])[1 + (g %% 2)] END,
                   1 + ((g / 11) %% 4), tm.v[1 + ((g / 14) %% array_length(tm.v, 1))],
                   CASE WHEN g %% 9 = 0 THEN NULL ELSE ag.v[1 + ((g / 5) %% array_length(ag.v, 1))] END,
                   tp.v[1 + ((g / 13) %% array_length(tp.v, 1))], 1,
                   CASE WHEN g > %(n)s * 0.95 AND g %% 17 = 0 THEN 'breached'
                        WHEN g > %(n)s * 0.95 AND g %% 23 = 0 THEN 'at_risk' ELSE '' END, now(), now(),
                   now() - (((%(n)s - g)::float / %(n)s * {DAYS}) || ' days')::interval + interval '8 hours',
                   now() - (((%(n)s - g)::float / %(n)s * {DAYS}) || ' days')::interval + interval '40 hours',
                   'voice', '', '', false, '{{}}'::jsonb, true
            FROM generate_series(1, %(n)s) AS g,
                 (SELECT %(subjects)s::text[] AS v) subj, (SELECT %(details)s::text[] AS v) det,
                 (SELECT %(subject_words)s::text[] AS v) subjw, (SELECT %(detail_words)s::text[] AS v) detw,
                 (SELECT %(agents)s::bigint[] AS v) ag, (SELECT %(teams)s::bigint[] AS v) tm,
                 (SELECT %(tps)s::bigint[] AS v) tp
            """,  # noqa: S608 — our own table; every value is a parameter
            {"org": org.pk, "n": ITEMS, "subjects": SUBJECTS, "details": DETAILS, **_search_words(),
             "agents": ids(agents),
             "teams": ids(teams), "tps": ids(touchpoints)},
        )
        cursor.execute(
            f"""
            INSERT INTO {through} (feedbackitem_id, tag_id)
            SELECT i.id, (%(tags)s::bigint[])[1 + ((g / 10) %% %(k)s)]
            FROM (SELECT id, substr(source_id, 2)::int AS g FROM {table} WHERE organization_id = %(org)s) i
            WHERE g %% 10 = 0
            """,  # noqa: S608 — our own tables. By the row number g, not the id: the same items get the
            # same tags whatever the id sequence stands at, so every filter finds the same rows each run.
            {"org": org.pk, "tags": ids(tags), "k": len(tags)},
        )
        cursor.execute(f"ANALYZE {table}")
        cursor.execute(f"ANALYZE {through}")


def _fixtures():
    from django.contrib.auth import get_user_model

    from cxplatform.models import Membership, Organization
    from feedback.models import Tag, Team
    from journeys.models import Touchpoint

    org, _ = Organization.objects.get_or_create(slug=SLUG, defaults={"name": "Bench inbox"})
    users = []
    for i in range(AGENTS):
        user, _ = get_user_model().objects.get_or_create(username=f"bench-agent-{i}")
        Membership.objects.get_or_create(user=user, organization=org, defaults={"role": "agent"})
        users.append(user)
    tags = [Tag.objects.get_or_create(organization=org, name=f"tag {i}")[0] for i in range(12)]
    teams = [Team.objects.get_or_create(organization=org, name=f"Team {i}")[0] for i in range(4)]
    touchpoints = [Touchpoint.objects.get_or_create(organization=org, name=f"Touchpoint {i}")[0] for i in range(7)]
    return org, users, tags, teams, touchpoints


def run():
    from feedback import selectors
    from feedback.models import FeedbackItem

    org, agents, tags, teams, touchpoints = _fixtures()
    started = time.perf_counter()
    if FeedbackItem.objects.filter(organization=org).count() != ITEMS or os.environ.get("BENCH_REPOPULATE"):
        _populate(org, agents, tags, teams, touchpoints)
    populate_s = time.perf_counter() - started
    count = FeedbackItem.objects.filter(organization=org).count()

    client = Client()
    client.force_login(agents[0])
    filters = [
        {},  # the open items, newest first
        {"view": "mine"},
        {"view": "breaching"},
        {"view": "all", "q": "доставка"},  # a common word, in another form than the text's
        {"view": "all", "q": "refund"},  # a rarer one
        {"status": "closed", "q": "battery", "priority": 2},
        {"tag": tags[2].name, "q": "самокат"},  # open items of tag 2 mention it at every size (smoke too)
        {"view": "all", "team": teams[1].pk, "sentiment": -1, "q": "kurjers"},
        {"view": "unassigned", "touchpoint": touchpoints[2].pk},
    ]
    for params in filters:  # warm-up, and a check that every page renders with rows
        answer = client.get("/inbox/", params)
        assert answer.status_code == 200 and b"data-item=" in answer.content, params
    samples, by_filter = [], {}
    for _round in range(5):
        for params in filters:
            took = timed(lambda params=params: client.get("/inbox/", params), 1)
            samples += took
            by_filter.setdefault(str(params), []).extend(took)
    page = summary(samples)
    counts = summary(timed(lambda: client.get("/inbox/counts/"), 20))

    # The reference: PostgreSQL alone answering the main query of the search page (one page of a
    # common word over every item, newest first) — what any inbox list must at least do.
    qs = selectors.items(org, {"view": "all", "q": "доставка"}, agents[0])
    sql, params = qs.select_related(None).only("id", "received_at").query.sql_with_params()
    sql = f"{sql} LIMIT {selectors.PAGE + 1}"

    def raw_query():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            cursor.fetchall()

    raw_query()
    raw = summary(timed(raw_query, 10))
    return {
        "items": count,
        "populate_seconds": round(populate_s, 1),
        "raw_search_page_query": raw,
        "inbox_page": page,
        "inbox_page_p95_target_ms": 100,
        "ratio_inbox_p95_to_raw_query_median": round(page["p95_ms"] / raw["median_ms"], 2),
        "by_filter_median_ms": {k: summary(v)["median_ms"] for k, v in by_filter.items()},
        "view_counts_fragment (loaded after the list)": counts,
    }
