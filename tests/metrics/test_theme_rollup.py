"""The daily theme rollup (docs/adr/0033): ThemeRollup always equals a recount from the theme rows,
the themes fragment reads it instead of the comments, and the comments-based fallback (a filter the
rollup has no column for) gives the same numbers where both can answer."""

import random
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cxplatform.models import Customer, Role
from cxplatform.textinsight import concepts
from cxplatform.theme_catalog import ThemeCatalog
from metrics import rollups, selectors
from metrics.models import ThemeRollup
from metrics.services import rebuild_range
from surveys import comments
from surveys.models import Answer, Question, Response, ResponseTheme
from tests import factories

pytestmark = pytest.mark.django_db

TODAY = timezone.now().date()
SPAN = 75  # days of answers: two whole months at least, read from month rows
# To the end of tomorrow: a run crossing midnight records its answers made "now" on the day after TODAY.
START, END = TODAY - timedelta(days=SPAN), TODAY + timedelta(days=2)
LAST_MONTH = (TODAY.replace(day=1) - timedelta(days=1)).replace(day=1)
# Free phrases (a word and pairs with it), concepts, and keys the catalog below merges or hides.
THEMES = ["delivery", "courier", "courier late", "battery", "battery range", "app", "refund", "price", "dostavka",
          "spam"]


class Catalog(ThemeCatalog):
    """An organization's edits: "courier" and "dostavka" merged into delivery, "spam" hidden, delivery
    renamed per language."""

    def label(self, key, language):
        if key == "delivery":
            return {"ru": "Доставка", "lv": "Piegāde"}.get(language, "Delivery")
        return super().label(key, language)


CATALOG = Catalog(merged_into={"courier": "delivery", "dostavka": "delivery"}, hidden=frozenset({"spam"}))


@pytest.fixture
def catalog(monkeypatch):
    monkeypatch.setattr(selectors, "catalog_for", lambda organization: CATALOG)
    return CATALOG


def at(days_ago: int, minute: int) -> datetime:
    day = TODAY - timedelta(days=days_ago)
    return datetime(day.year, day.month, day.day, 0, 0, tzinfo=UTC) + timedelta(minutes=minute)


def populate(org, seed: int, n: int = 250) -> dict:
    """Random answers over several surveys, touchpoints, channels, segments, languages and days, each
    comment with random themes of random sign (None: read before clauses had one)."""
    rng = random.Random(seed)
    org.segment_attribute = "plan"
    org.save(update_fields=["segment_attribute"])
    surveys = [factories.survey(org, "nps"), factories.survey(org, "csat")]
    links = [factories.distribution(org, s) for s in surveys for _ in range(2)]
    links.append(factories.distribution(org, surveys[0], touchpoint=None))
    customers = [Customer.objects.create(organization=org, external_id=f"T{i}", attributes={"plan": plan})
                 for i, plan in enumerate(["gold", "silver", "bronze"])]
    for _ in range(n):
        link = rng.choice(links)
        started = at(rng.randrange(0, SPAN), rng.randrange(0, 1440))
        # Some finish the next day (counted there), some never finish (counted nowhere).
        submitted = started + timedelta(minutes=rng.choice([1, 5, 1500]))
        status = rng.choice([Response.Status.COMPLETED] * 8 + [Response.Status.ABANDONED, Response.Status.STARTED])
        commented = rng.random() < 0.8
        response = factories.response(
            org, link, score=rng.randrange(0, 6) if link.survey.survey_type == "csat" else rng.randrange(0, 11),
            comment="some words" if commented else "", language=rng.choice(["ru", "en", "lv"]),
            customer=rng.choice([*customers, None]), started_at=started,
            submitted_at=submitted if status != Response.Status.STARTED else None, status=status,
            hidden_fields={"follow_up": "1"} if rng.random() < 0.03 else {})
        if commented:
            ResponseTheme.objects.bulk_create([
                ResponseTheme(organization=org, response=response, phrase=phrase,
                              sentiment=rng.choice([1, 0, -1, -1, None]))
                for phrase in rng.sample(THEMES, rng.randrange(1, 4))])
    return {"surveys": surveys, "links": links}


def counted_responses(org):
    """The responses the figures count, by Python's reading of the rules (not the rollups' SQL)."""
    from feedback.loop import FOLLOW_UP_FIELD

    for r in Response.objects.filter(organization=org).select_related("customer"):
        if r.status == Response.Status.STARTED or FOLLOW_UP_FIELD in (r.hidden_fields or {}) or not r.comment:
            continue
        yield r


def recount(org) -> list:
    """What ThemeRollup must hold, counted here from the theme rows: a row per group and day, per group
    and month, and per survey and month."""
    rows = defaultdict(Counter)
    for r in counted_responses(org):
        day = (r.submitted_at or r.started_at).astimezone(UTC).date()
        segment = (r.customer.attributes.get("plan", "") if r.customer else "")
        for theme in ResponseTheme.objects.filter(response=r):
            month = day.replace(day=1)
            for group in ((r.touchpoint_id or 0, r.channel_id or 0, segment, r.language, day, ThemeRollup.DAY),
                          (r.touchpoint_id or 0, r.channel_id or 0, segment, r.language, month, ThemeRollup.MONTH),
                          (0, 0, "", "", month, ThemeRollup.SURVEY_MONTH)):
                c = rows[(r.survey_id, *group, theme.phrase)]
                c["mentions"] += 1
                c["positive"] += theme.sentiment == 1
                c["neutral"] += theme.sentiment == 0
                c["negative"] += theme.sentiment == -1
    return sorted((*key, c["mentions"], c["positive"], c["neutral"], c["negative"]) for key, c in rows.items())


def snapshot(org) -> list:
    return sorted(ThemeRollup.objects.filter(organization=org).values_list(
        "survey_id", "touchpoint_id", "channel_id", "segment", "language", "day", "grain", "theme", "mentions",
        "positive", "neutral", "negative"))


def expected_top(org, catalog, *, survey=None, language=None, start=START, end=END) -> dict:
    """Per theme as the organization names it: mentions, negative, positive — recounted by hand."""
    found = defaultdict(Counter)
    for r in counted_responses(org):
        moment = (r.submitted_at or r.started_at).astimezone(UTC).date()
        if not start <= moment < end or (survey and r.survey_id != survey) or (language and r.language != language):
            continue
        for theme in ResponseTheme.objects.filter(response=r):
            key = catalog.canonical(theme.phrase)
            if key is not None:
                found[key]["mentions"] += 1
                found[key]["negative"] += theme.sentiment == -1
                found[key]["positive"] += theme.sentiment == 1
    found = {key: c for key, c in found.items() if c["mentions"] >= 2}
    # A free word (no concept of the dictionary) is left out when a pair with it covers 60% of its
    # mentions ("battery range").
    covered = {word for word, c in found.items() if " " not in word and word not in concepts.dictionary() and any(
        word in pair.split() and p["mentions"] >= 0.6 * c["mentions"] for pair, p in found.items() if " " in pair)}
    return {key: (c["mentions"], c["negative"], c["positive"]) for key, c in found.items() if key not in covered}


def shown(rows) -> dict:
    return {r["phrase"]: (r["mentions"], r["negative"], r["positive"]) for r in rows}


def rebuild(org):
    rollups.rebuild(org, START - timedelta(days=40), END + timedelta(days=40))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_theme_rollup_equals_a_recount_after_rereads_and_deletions(org_a, org_b, catalog, seed):
    populate(org_a, seed)
    populate(org_b, seed + 100)
    rebuild(org_a)
    assert snapshot(org_a) == recount(org_a)
    assert snapshot(org_a), "the random data must have themes"
    assert not ThemeRollup.objects.filter(organization=org_b).exists()  # another organization's rebuild

    # Every theme as recounted (the limit covers them all).
    top = selectors.top_themes(selectors.Scope(org_a, START, END), limit=40)
    assert shown(top) == expected_top(org_a, catalog)
    assert "spam" not in shown(top) and "courier" not in shown(top)  # hidden; merged into delivery

    # A response deleted, and the day rebuilt by the dirty-day batch.
    gone = Response.objects.filter(organization=org_a, themes__isnull=False).exclude(
        status=Response.Status.STARTED).first()
    day = (gone.submitted_at or gone.started_at).astimezone(UTC).date()
    gone.delete()
    rollups.mark_dirty(organization_id=org_a.pk, survey_id=gone.survey_id, days={day})
    rollups.rebuild_dirty()
    assert snapshot(org_a) == recount(org_a)

    # The batch re-read (after a model change) with the range rebuild the command runs after it.
    some = list(Response.objects.filter(organization=org_a).order_by("pk").values_list("pk", flat=True)[:20])
    comments.reread(Response.objects.filter(pk__in=some))
    # Chunks that cut months: each chunk rewrites the month rows of the months it touches.
    rebuild_range(org_a, START - timedelta(days=40), END + timedelta(days=40), chunk_days=17)
    assert snapshot(org_a) == recount(org_a)


def test_a_comment_read_again_on_the_worker_rebuilds_its_day(org_a):
    link = factories.distribution(org_a, factories.survey(org_a, "nps"))
    response = factories.response(org_a, link, score=2, comment="Курьер опоздал на два часа, ужасно.",
                                  language="ru", comment_read=False)
    rebuild(org_a)
    assert snapshot(org_a) == []  # not read yet: no themes

    # The reading emits surveys.comment_read; the metrics handler marks the day dirty.
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert comments.read_comment(response_id=response.pk)
    rollups.rebuild_dirty()
    assert snapshot(org_a) == recount(org_a) != []
    courier = ThemeRollup.objects.get(theme="courier", grain=ThemeRollup.DAY)  # the concept, any language
    assert (courier.mentions, courier.negative) == (1, 1)


def test_the_fallback_gives_the_rollups_numbers(org_a, catalog, monkeypatch):
    world = populate(org_a, 7, n=300)
    rebuild(org_a)
    scopes = [selectors.Scope(org_a, START, END), selectors.Scope(org_a, START, END, languages=("ru",)),
              selectors.Scope(org_a, START, END, surveys=(world["surveys"][0].pk,), segments=("gold", "silver")),
              selectors.Scope(org_a, TODAY - timedelta(days=3), END, touchpoints=(world["links"][0].touchpoint_id,),
                              channels=(world["links"][0].channel_id,)),
              # One whole month (its month rows only), and one with days on either side of it.
              selectors.Scope(org_a, LAST_MONTH, TODAY.replace(day=1)),
              selectors.Scope(org_a, LAST_MONTH - timedelta(days=9), TODAY.replace(day=1) + timedelta(days=1)),
              # The same by group (the group's month rows, not the survey's).
              selectors.Scope(org_a, LAST_MONTH - timedelta(days=9), TODAY.replace(day=1) + timedelta(days=1),
                              languages=("en", "lv"), surveys=(world["surveys"][1].pk,))]
    from_rollup = [selectors.top_themes(scope, limit=40) for scope in scopes]
    assert all(selectors.theme_rollup_serves(scope) for scope in scopes)
    assert from_rollup[0] and from_rollup[1]
    monkeypatch.setattr(selectors, "theme_rollup_serves", lambda scope: False)
    assert [selectors.top_themes(scope, limit=40) for scope in scopes] == from_rollup
    assert shown(from_rollup[1]) == expected_top(org_a, catalog, language="ru")
    assert shown(from_rollup[4]) == expected_top(org_a, catalog, start=LAST_MONTH, end=TODAY.replace(day=1))
    assert shown(from_rollup[5]) == expected_top(org_a, catalog, start=LAST_MONTH - timedelta(days=9),
                                                 end=TODAY.replace(day=1) + timedelta(days=1))


def test_an_answer_filter_is_counted_from_the_comments(org_a):
    survey = factories.survey(org_a, "nps")
    link = factories.distribution(org_a, survey)
    question = factories.question(org_a, survey, kind=Question.Kind.SINGLE_CHOICE, key="model",
                                  choices=[{"value": "city", "label": {"en": "City"}},
                                           {"value": "cargo", "label": {"en": "Cargo"}}])
    for model, phrase, sign in [("city", "battery", -1), ("city", "battery", -1), ("cargo", "battery", 1),
                                ("cargo", "battery", 1), ("cargo", "battery", 1)]:
        response = factories.response(org_a, link, score=5, comment="words")
        Answer.objects.create(response=response, question=question, choices=[model])
        ResponseTheme.objects.create(organization=org_a, response=response, phrase=phrase, sentiment=sign)
    rebuild(org_a)
    scope = selectors.Scope(org_a, START, END, answer=(question.pk, "cargo"))
    assert not selectors.theme_rollup_serves(scope)
    assert shown(selectors.top_themes(scope)) == {"battery": (3, 0, 3)}
    assert shown(selectors.top_themes(selectors.Scope(org_a, START, END))) == {"battery": (5, 2, 3)}


def _theme_queries(client, params=None):
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/metrics/themes/", params or {})
    assert page.status_code == 200
    return page, [q["sql"] for q in queries.captured_queries]


def test_the_fragment_reads_the_rollup_not_the_comments(org_a, make_member, client_for, catalog):
    client = client_for(make_member(org_a, Role.VIEWER))
    link = factories.distribution(org_a, factories.survey(org_a, "nps"))

    def comment(n):
        for i in range(n):
            response = factories.response(org_a, link, score=3, comment="words", started_at=at(i % 5, 600),
                                          submitted_at=at(i % 5, 601))
            ResponseTheme.objects.bulk_create([
                ResponseTheme(organization=org_a, response=response, phrase="courier", sentiment=-1),
                ResponseTheme(organization=org_a, response=response, phrase="delivery", sentiment=1 if i % 2 else 0),
                ResponseTheme(organization=org_a, response=response, phrase="spam", sentiment=-1)])
        rebuild(org_a)

    comment(4)
    few_page, few = _theme_queries(client)
    comment(40)
    many_page, many = _theme_queries(client)
    assert len(many) == len(few)
    table = ResponseTheme._meta.db_table
    assert not any(table in sql for sql in many)
    assert any(ThemeRollup._meta.db_table in sql for sql in many)
    body = many_page.content.decode()
    # 44 comments, each naming delivery and courier (merged into it): 88 mentions, half of them negative
    # (courier's clauses), a quarter positive. Hidden "spam" is not shown.
    assert "Delivery" in body and "spam" not in body
    assert "<td>88</td><td>50%</td><td>25%</td>" in body
    # The label follows the reader's language.
    ru = client.get("/metrics/themes/", HTTP_ACCEPT_LANGUAGE="ru")
    assert "Доставка" in ru.content.decode()


def test_a_theme_drills_down_to_its_merged_keys_once_per_comment(org_a, org_b, catalog):
    link = factories.distribution(org_a, factories.survey(org_a, "nps"))
    both = factories.response(org_a, link, score=3, comment="words")
    courier = factories.response(org_a, link, score=3, comment="words")
    other = factories.response(org_a, link, score=3, comment="words")
    ResponseTheme.objects.bulk_create([
        ResponseTheme(organization=org_a, response=both, phrase="delivery", sentiment=-1),
        ResponseTheme(organization=org_a, response=both, phrase="courier", sentiment=-1),
        ResponseTheme(organization=org_a, response=courier, phrase="courier", sentiment=-1),
        ResponseTheme(organization=org_a, response=other, phrase="price", sentiment=1)])
    foreign = factories.response(org_b, score=3, comment="words")
    ResponseTheme.objects.create(organization=org_b, response=foreign, phrase="delivery", sentiment=-1)
    rebuild(org_a)
    rebuild(org_b)
    scope = selectors.Scope(org_a, START, END)
    listed = list(selectors.responses_behind(scope, theme="delivery"))
    assert sorted(r.pk for r in listed) == sorted([both.pk, courier.pk])
    assert [r.pk for r in selectors.responses_behind(scope, theme="price")] == [other.pk]


def test_the_summary_names_complaints_by_their_own_clauses(org_a, catalog):
    from django.utils import translation

    from metrics import narrative

    link = factories.distribution(org_a, factories.survey(org_a, "nps"))
    for _ in range(3):
        # A happy comment overall, but its words about delivery (and the courier, merged in) complain.
        response = factories.response(org_a, link, score=9, comment="words", sentiment=1)
        ResponseTheme.objects.bulk_create([
            ResponseTheme(organization=org_a, response=response, phrase="courier", sentiment=-1),
            ResponseTheme(organization=org_a, response=response, phrase="price", sentiment=1)])
    rebuild(org_a)
    with translation.override("lv"):
        assert narrative.complaints(selectors.Scope(org_a, START, END)) == ["Piegāde"]
