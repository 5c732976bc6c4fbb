"""Keeping the daily rollups equal to what the raw responses say.

Every write recomputes whole (survey, day) groups from raw responses — never "+1" — so a
retried, duplicated or lost task cannot leave a rollup wrong: the next recompute of that day
(the response's own event, the nightly reconciliation, or `manage.py rebuild_metrics`) makes
it exact again.

An answer's event only marks its (survey, day) dirty; `rebuild_marked` rebuilds marked days in
batches, a moment later, without holding the marks (docs/adr/0019). Locks are transaction-scoped
advisory locks: a rebuild of marked days holds its organization's lock shared and each (survey,
day) exclusively (or leaves the day to the worker holding it), so batches of different days run
side by side; a range rebuild (nightly reconciliation,
`manage.py rebuild_metrics`) holds the organization's lock exclusively. Two recomputes of the
same day therefore never interleave their delete and insert.
"""

from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

from django.db import IntegrityError, connection, transaction
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    IntegerField,
    Max,
    OuterRef,
    Q,
    Sum,
    TextField,
    Value,
    When,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce, Now, Substr, TruncDate, TruncMonth
from django.utils import timezone

from feedback.loop import FOLLOW_UP_FIELD
from surveys.models import Answer, Question, Response, ResponseTheme, SurveyType

from .models import ChoiceRollup, DailyRollup, DirtyDay, RebuildRequest, ThemeRollup

LOCK_NAMESPACE = 7_340_001  # first key of pg_advisory_xact_lock(int, int) for rollup writers
DAY_LOCK_NAMESPACE = 7_340_002  # … and of the (survey, day) locks
MONTH_LOCK_NAMESPACE = 7_340_003  # … and of the (survey, month) locks of the theme rollup's month rows


def _lock(organization_id: int, *, shared: bool = False) -> None:
    if connection.vendor == "postgresql":
        function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {function}(%s, %s)", [LOCK_NAMESPACE, organization_id])  # nosec B608 — one of two names


def _day_key(survey_id: int, day: date) -> int:
    return ((survey_id * 1_000_003 + day.toordinal()) % 4_294_967_291) - 2**31


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start, end) as UTC datetimes."""
    return datetime.combine(start, time.min, UTC), datetime.combine(end, time.min, UTC)


def _responses(organization, start: date, end: date, survey_ids=None):
    lo, hi = _bounds(start, end)
    # Only final answers count (docs/adr/0011): completed, or left unfinished — counted as their
    # last state once the abandonment sweep has made them final. One still in progress (a score
    # clicked a minute ago) counts nowhere yet. A closed-loop follow-up is asked only of customers
    # we called back: it is the case's recovery figure, not another answer of the survey's population.
    qs = Response.objects.filter(organization=organization).exclude(status=Response.Status.STARTED).exclude(
        hidden_fields__has_key=FOLLOW_UP_FIELD).annotate(
        moment=Coalesce("submitted_at", "started_at"),
    ).filter(moment__gte=lo, moment__lt=hi)
    if survey_ids is not None:
        qs = qs.filter(survey_id__in=list(survey_ids))
    return qs


def rated():
    """Whether a CSI response rated at least one attribute (a CSI response has no single score).
    Asked of CSI responses only: CASE evaluates its branch lazily, so no other response pays for the
    lookup, and the partial index `answer_rated` keeps each lookup one probe."""
    return Case(
        When(survey__survey_type=SurveyType.CSI,
             then=Exists(Answer.objects.filter(response=OuterRef("pk"), number__isnull=False,
                                               question__kind=Question.Kind.CSI_ATTRIBUTE))),
        default=Value(False), output_field=BooleanField())


# An answer to the survey's main measure; everything else counts as skipped. Needs `rated`.
ANSWERED = Q(score__isnull=False) | Q(survey__survey_type=SurveyType.CSI, rated=True)


def responses_in(organization, start: date, end: date, survey_ids=None):
    """The responses counted on the days [start, end), annotated with their `moment`."""
    return _responses(organization, start, end, survey_ids)


def _group_rows(organization, start, end, survey_ids):
    attr = organization.segment_attribute or "segment"
    answered = ANSWERED
    score_counts = {f"c{i}": Count("id", filter=Q(score=i)) for i in range(11)}
    return (
        _responses(organization, start, end, survey_ids)
        .annotate(
            day=TruncDate("moment", tzinfo=UTC),
            seg=Substr(Coalesce(KeyTextTransform(attr, "customer__attributes"), Value(""), output_field=TextField()),
                       1, SEGMENT_LENGTH),
            tp=Coalesce("touchpoint_id", Value(0)),
            ch=Coalesce("channel_id", Value(0)),
            rated=rated(),
        )
        .values("survey_id", "tp", "ch", "seg", "language", "day")
        .annotate(
            n_responses=Count("id", filter=answered),
            n_skipped=Count("id", filter=~answered),
            n_completed=Count("id", filter=Q(status=Response.Status.COMPLETED)),
            n_comments=Count("id", filter=~Q(comment="")),
            n_positive=Count("id", filter=Q(sentiment=1)),
            n_neutral=Count("id", filter=Q(sentiment=0)),
            n_negative=Count("id", filter=Q(sentiment=-1)),
            score_total=Coalesce(Sum("score"), Value(0)),
            **score_counts,
        )
        .order_by()
    )


def _attribute_rows(organization, start, end, survey_ids):
    attr = organization.segment_attribute or "segment"
    lo, hi = _bounds(start, end)
    answers = Answer.objects.filter(
        response__organization=organization, question__kind=Question.Kind.CSI_ATTRIBUTE, number__isnull=False,
    ).exclude(response__status=Response.Status.STARTED).exclude(
        response__hidden_fields__has_key=FOLLOW_UP_FIELD,
    ).annotate(moment=Coalesce("response__submitted_at", "response__started_at")).filter(
        moment__gte=lo, moment__lt=hi)
    if survey_ids is not None:
        answers = answers.filter(response__survey_id__in=list(survey_ids))
    return (
        answers.annotate(
            day=TruncDate("moment", tzinfo=UTC),
            seg=Substr(Coalesce(KeyTextTransform(attr, "response__customer__attributes"), Value(""),
                                output_field=TextField()), 1, SEGMENT_LENGTH),
            tp=Coalesce("response__touchpoint_id", Value(0)),
            ch=Coalesce("response__channel_id", Value(0)),
        )
        .values("response__survey_id", "tp", "ch", "seg", "response__language", "day", "question__key")
        .annotate(
            n=Count("id"),
            total=Sum("number"),
            imp_n=Count("importance"),
            imp_total=Coalesce(Sum(Cast("importance", IntegerField())), Value(0)),
        )
        .order_by()
    )


SEGMENT_LENGTH = DailyRollup._meta.get_field("segment").max_length
COUNT_COLUMNS = {"responses": "n_responses", "skipped": "n_skipped", "completed": "n_completed",
                 "comments": "n_comments", "positive_comments": "n_positive", "neutral_comments": "n_neutral",
                 "negative_comments": "n_negative", "score_sum": "score_total", **{f"c{i}": f"c{i}" for i in range(11)}}


def _insert_groups(organization, start, end, survey_ids) -> int:
    """Write the groups' rows straight from the database's own aggregate (INSERT … SELECT): a
    million answers never travel through Python. Returns how many answers were folded in."""
    sql, params = _group_rows(organization, start, end, survey_ids).query.sql_with_params()
    table = connection.ops.quote_name(DailyRollup._meta.db_table)
    targets = ["organization_id", "survey_id", "touchpoint_id", "channel_id", "segment", "language", "day",
               *COUNT_COLUMNS, "attributes"]
    sources = ["%s", "g.survey_id", "g.tp", "g.ch", "g.seg", "g.language", "g.day",
               *(f"g.{source}" for source in COUNT_COLUMNS.values()), "'{}'"]
    with connection.cursor() as cursor:
        # Our own columns and the ORM's SQL, with every value a parameter.
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(targets)}) SELECT {', '.join(sources)} FROM ({sql}) g",  # noqa: S608 — our columns, the ORM's SQL  # nosec B608
            [organization.pk, *params])
    stale = DailyRollup.objects.filter(organization=organization, day__gte=start, day__lt=end)
    if survey_ids is not None:
        stale = stale.filter(survey_id__in=list(survey_ids))
    return stale.aggregate(n=Coalesce(Sum("responses") + Sum("skipped"), Value(0)))["n"]


def _add_attributes(organization, start, end, survey_ids) -> None:
    """CSI rows: each attribute's [answers, score sum, importance answers, importance sum]."""
    by_key: dict[tuple, dict] = {}
    for a in _attribute_rows(organization, start, end, survey_ids):
        key = (a["response__survey_id"], a["tp"], a["ch"], a["seg"] or "", a["response__language"], a["day"])
        by_key.setdefault(key, {})[a["question__key"]] = [a["n"], a["total"], a["imp_n"], a["imp_total"]]
    if not by_key:
        return
    rows = DailyRollup.objects.filter(organization=organization, day__gte=start, day__lt=end,
                                      survey_id__in={k[0] for k in by_key})
    changed = []
    for row in rows:
        attributes = by_key.get((row.survey_id, row.touchpoint_id, row.channel_id, row.segment, row.language, row.day))
        if attributes:
            row.attributes = attributes
            changed.append(row)
    DailyRollup.objects.bulk_update(changed, ["attributes"], batch_size=2000)


# --- Choice questions: one row per option, group and day (ChoiceRollup) ------------------------



def _choice_responses(organization, start, end, survey_ids):
    """The counted responses of [start, end) with their group and what every count column needs."""
    attr = organization.segment_attribute or "segment"
    return (
        _responses(organization, start, end, survey_ids)
        .annotate(
            day=TruncDate("moment", tzinfo=UTC),
            seg=Substr(Coalesce(KeyTextTransform(attr, "customer__attributes"), Value(""), output_field=TextField()),
                       1, SEGMENT_LENGTH),
            tp=Coalesce("touchpoint_id", Value(0)),
            ch=Coalesce("channel_id", Value(0)),
            rated=rated(),
            answered=Case(When(ANSWERED, then=Value(True)), default=Value(False), output_field=BooleanField()),
        )
        .values("id", "survey_id", "tp", "ch", "seg", "language", "day", "moment", "answered", "status", "comment",
                "sentiment", "score")
        .order_by()
    )


def _insert_choice_groups(organization, start, end, survey_ids) -> None:
    """ChoiceRollup rows straight from the database (INSERT … SELECT), like `_insert_groups`: each
    counted response meets each choice question of its survey; it lands on the row of every option
    it picked plus ANSWERED, or on NO_ANSWER. A question archived since still counts on the days it
    was asked; after its archiving nobody is counted as not answering it."""
    sql, params = _choice_responses(organization, start, end, survey_ids).query.sql_with_params()
    table = connection.ops.quote_name(ChoiceRollup._meta.db_table)
    question, answer = (connection.ops.quote_name(m._meta.db_table) for m in (Question, Answer))
    width = ChoiceRollup._meta.get_field("option").max_length
    counts = {
        "responses": "COUNT(*) FILTER (WHERE r.answered)", "skipped": "COUNT(*) FILTER (WHERE NOT r.answered)",
        "completed": "COUNT(*) FILTER (WHERE r.status = %s)", "comments": "COUNT(*) FILTER (WHERE r.comment <> '')",
        "positive_comments": "COUNT(*) FILTER (WHERE r.sentiment = 1)",
        "neutral_comments": "COUNT(*) FILTER (WHERE r.sentiment = 0)",
        "negative_comments": "COUNT(*) FILTER (WHERE r.sentiment = -1)",
        "score_sum": "COALESCE(SUM(r.score), 0)",
        **{f"c{i}": f"COUNT(*) FILTER (WHERE r.score = {i})" for i in range(11)},
    }
    targets = ["organization_id", "survey_id", "question_id", "option", "touchpoint_id", "channel_id", "segment",
               "language", "day", *counts]
    # Names are ours, every value a parameter (the ORM's included).
    statement = (
        f"INSERT INTO {table} ({', '.join(targets)}) "  # noqa: S608  # nosec B608
        f"SELECT %s, r.survey_id, q.id, o.option, r.tp, r.ch, r.seg, r.language, r.day, {', '.join(counts.values())} "
        f"FROM ({sql}) r "
        f"JOIN {question} q ON q.survey_id = r.survey_id AND q.kind IN (%s, %s, %s) "
        # Joined on its unique key alone: a filter on the answer here (is it a non-empty array?) is
        # estimated at a handful of rows, and the planner then merge-joins on the question alone and
        # filters response ids pairwise — quadratic, minutes at a million answers. `p` decides it.
        f"LEFT JOIN {answer} a ON a.response_id = r.id AND a.question_id = q.id "
        "CROSS JOIN LATERAL (SELECT CASE WHEN jsonb_typeof(a.choices) = 'array' THEN "
        "CASE WHEN jsonb_array_length(a.choices) > 0 THEN a.choices END END AS choices) p "
        "CROSS JOIN LATERAL ("
        f"SELECT DISTINCT LEFT(e.value, {int(width)}) AS option FROM jsonb_array_elements_text(p.choices) e(value) "
        "WHERE e.value NOT IN (%s, %s) "
        "UNION ALL SELECT %s WHERE p.choices IS NOT NULL UNION ALL SELECT %s WHERE p.choices IS NULL) o "
        "WHERE p.choices IS NOT NULL OR q.archived_at IS NULL OR q.archived_at > r.moment "
        "GROUP BY r.survey_id, q.id, o.option, r.tp, r.ch, r.seg, r.language, r.day"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [
            organization.pk, Response.Status.COMPLETED, *params, *ChoiceRollup.KINDS,
            ChoiceRollup.ANSWERED, ChoiceRollup.NO_ANSWER, ChoiceRollup.ANSWERED, ChoiceRollup.NO_ANSWER])


def _build_choice_groups(organization, start, end, survey_ids) -> None:
    """The same rows as `_insert_choice_groups`, counted in Python: for the embedded SQLite
    database, which has no lateral join over a JSON array."""
    responses = {r["id"]: r for r in _choice_responses(organization, start, end, survey_ids)}
    if not responses:
        return
    questions = list(Question.all_objects.filter(survey_id__in={r["survey_id"] for r in responses.values()},
                                                 kind__in=ChoiceRollup.KINDS))
    picked = {(a.response_id, a.question_id): a.choices for a in Answer.objects.filter(
        response_id__in=list(responses), question__in=questions).only("response_id", "question_id", "choices")}
    width = ChoiceRollup._meta.get_field("option").max_length
    rows: dict[tuple, ChoiceRollup] = {}
    for r in responses.values():
        for q in questions:
            if q.survey_id != r["survey_id"]:
                continue
            values = picked.get((r["id"], q.pk))
            chosen = {str(v)[:width] for v in values if v not in (ChoiceRollup.ANSWERED, ChoiceRollup.NO_ANSWER)} \
                if isinstance(values, list) and values else None
            if chosen is None and q.archived_at is not None and q.archived_at <= r["moment"]:
                continue
            options = [*chosen, ChoiceRollup.ANSWERED] if chosen is not None else [ChoiceRollup.NO_ANSWER]
            for option in options:
                key = (q.pk, option, r["tp"], r["ch"], r["seg"] or "", r["language"], r["day"])
                row = rows.get(key)
                if row is None:
                    row = rows[key] = ChoiceRollup(
                        organization=organization, survey_id=q.survey_id, question_id=q.pk, option=option,
                        touchpoint_id=key[2], channel_id=key[3], segment=key[4], language=key[5], day=key[6])
                _count_into(row, r)
    ChoiceRollup.objects.bulk_create(rows.values(), batch_size=2000)


def _count_into(row: ChoiceRollup, response: dict) -> None:
    answered = response["answered"]
    row.responses += answered
    row.skipped += not answered
    row.completed += response["status"] == Response.Status.COMPLETED
    row.comments += response["comment"] != ""
    sentiment = response["sentiment"]
    row.positive_comments += sentiment == 1
    row.neutral_comments += sentiment == 0
    row.negative_comments += sentiment == -1
    if response["score"] is not None:
        row.score_sum += response["score"]
        if 0 <= response["score"] <= 10:
            setattr(row, f"c{response['score']}", getattr(row, f"c{response['score']}") + 1)


def _replace_choices(organization, start: date, end: date, survey_ids=None) -> None:
    stale = ChoiceRollup.objects.filter(organization=organization, day__gte=start, day__lt=end)
    if survey_ids is not None:
        stale = stale.filter(survey_id__in=list(survey_ids))
    stale.delete()
    # Only the surveys that ask a choice question: most days of most surveys cost one query here.
    asking = Question.all_objects.filter(organization=organization, kind__in=ChoiceRollup.KINDS)
    if survey_ids is not None:
        asking = asking.filter(survey_id__in=list(survey_ids))
    asking = set(asking.values_list("survey_id", flat=True).distinct())
    if not asking:
        return
    if connection.vendor == "postgresql":
        _insert_choice_groups(organization, start, end, asking)
    else:
        _build_choice_groups(organization, start, end, asking)


# --- Comment themes: one row per theme, group and day (ThemeRollup) -----------------------------


def _commented(organization, start, end, survey_ids):
    """The counted responses of [start, end) that have a comment, with their group."""
    attr = organization.segment_attribute or "segment"
    return (
        _responses(organization, start, end, survey_ids).exclude(comment="")
        .annotate(
            day=TruncDate("moment", tzinfo=UTC),
            seg=Substr(Coalesce(KeyTextTransform(attr, "customer__attributes"), Value(""), output_field=TextField()),
                       1, SEGMENT_LENGTH),
            tp=Coalesce("touchpoint_id", Value(0)),
            ch=Coalesce("channel_id", Value(0)),
        )
        .values("id", "survey_id", "tp", "ch", "seg", "language", "day")
        .order_by()
    )


def _month_after(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def _lock_months(pairs) -> None:
    """Exclusive locks on the (survey, month)s whose month rows a batch rewrites: two batches of
    different days of one month take turns there. Taken after the day locks, in one order."""
    if connection.vendor != "postgresql":
        return
    keys = sorted({((survey_id * 1_000_003 + day.replace(day=1).toordinal()) % 4_294_967_291) - 2**31
                   for survey_id, day in pairs})
    with connection.cursor() as cursor:
        for key in keys:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [MONTH_LOCK_NAMESPACE, key])


def _replace_themes(organization, start: date, end: date, survey_ids=None) -> None:
    """ThemeRollup's day rows of [start, end) straight from the theme rows, then the month rows of
    the months they fall in from the day rows (INSERT … SELECT in portable SQL: the embedded SQLite
    runs it too). Each theme row counts once, under the sign of its own clauses."""
    rows = ThemeRollup.objects.filter(organization=organization)
    if survey_ids is not None:
        rows = rows.filter(survey_id__in=list(survey_ids))
    first, after = start.replace(day=1), _month_after(end - timedelta(days=1))
    rows.filter(grain=ThemeRollup.DAY, day__gte=start, day__lt=end).delete()
    rows.filter(grain__in=[ThemeRollup.MONTH, ThemeRollup.SURVEY_MONTH], day__gte=first, day__lt=after).delete()
    sql, params = _commented(organization, start, end, survey_ids).query.sql_with_params()
    table, themes = (connection.ops.quote_name(m._meta.db_table) for m in (ThemeRollup, ResponseTheme))
    columns = "organization_id, survey_id, touchpoint_id, channel_id, segment, language, day, grain, theme, " \
              "mentions, positive, neutral, negative"
    sums = {"n": Sum("mentions"), "p": Sum("positive"), "z": Sum("neutral"), "m": Sum("negative")}
    days = rows.filter(grain=ThemeRollup.DAY, day__gte=first, day__lt=after).annotate(first_day=TruncMonth("day"))
    months = days.values("survey_id", "touchpoint_id", "channel_id", "segment", "language", "first_day",
                         "theme").annotate(**sums).order_by().query.sql_with_params()
    survey_months = days.values("survey_id", "first_day", "theme").annotate(**sums).order_by().query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Room to sort a million theme rows in memory (within the default 4 MB it spills to disk).
            cursor.execute("SET LOCAL work_mem = '64MB'")
        # Names are ours, every value a parameter (the ORM's included).
        cursor.execute(
            f"INSERT INTO {table} ({columns}) "  # noqa: S608  # nosec B608
            "SELECT %s, r.survey_id, r.tp, r.ch, r.seg, r.language, r.day, %s, t.phrase, COUNT(*), "
            "SUM(CASE WHEN t.sentiment > 0 THEN 1 ELSE 0 END), SUM(CASE WHEN t.sentiment = 0 THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN t.sentiment < 0 THEN 1 ELSE 0 END) "
            f"FROM ({sql}) r JOIN {themes} t ON t.response_id = r.id "
            "GROUP BY r.survey_id, r.tp, r.ch, r.seg, r.language, r.day, t.phrase",
            [organization.pk, ThemeRollup.DAY, *params])
        cursor.execute(
            f"INSERT INTO {table} ({columns}) "  # noqa: S608  # nosec B608
            "SELECT %s, g.survey_id, g.touchpoint_id, g.channel_id, g.segment, g.language, g.first_day, %s, "
            f"g.theme, g.n, g.p, g.z, g.m FROM ({months[0]}) g",
            [organization.pk, ThemeRollup.MONTH, *months[1]])
        cursor.execute(
            f"INSERT INTO {table} ({columns}) "  # noqa: S608  # nosec B608
            "SELECT %s, g.survey_id, 0, 0, '', '', g.first_day, %s, g.theme, g.n, g.p, g.z, g.m "
            f"FROM ({survey_months[0]}) g",
            [organization.pk, ThemeRollup.SURVEY_MONTH, *survey_months[1]])


def _replace(organization, start: date, end: date, survey_ids=None) -> int:
    """Delete and re-insert the rows of [start, end) — the daily, choice and theme rollups, in the
    caller's transaction, so they never disagree; the caller holds the locks."""
    stale = DailyRollup.objects.filter(organization=organization, day__gte=start, day__lt=end)
    if survey_ids is not None:
        stale = stale.filter(survey_id__in=list(survey_ids))
    stale.delete()
    folded = _insert_groups(organization, start, end, survey_ids)
    _add_attributes(organization, start, end, survey_ids)
    _replace_choices(organization, start, end, survey_ids)
    _replace_themes(organization, start, end, survey_ids)
    return folded


def rebuild(organization, start: date, end: date, survey_ids=None) -> int:
    """Recompute every rollup row of [start, end) (of `survey_ids`, or all surveys) from raw
    responses. Returns how many responses were folded in."""
    with transaction.atomic():
        _lock(organization.pk)
        return _replace(organization, start, end, survey_ids)


def days_of(response) -> set[date]:
    """The UTC days a response may be counted on (it moves when it is completed later)."""
    days = {response.started_at.astimezone(UTC).date()}
    if response.submitted_at:
        days.add(response.submitted_at.astimezone(UTC).date())
    return days


def refresh_for_response(response_id: int) -> None:
    """Recompute the response's (survey, day) groups at once (a repair tool; the event path
    marks them dirty instead)."""
    response = Response.objects.select_related("organization").filter(pk=response_id).first()
    if response is None:
        return
    for day in days_of(response):
        rebuild(response.organization, day, day + timedelta(days=1), survey_ids=[response.survey_id])


def mark_for_response(response_id: int) -> bool:
    """The `response.recorded` subscriber: mark the response's (survey, day)s dirty. True when a
    day was clean until now, i.e. when no rebuild is waiting for it yet."""
    response = Response.objects.filter(pk=response_id).only(
        "organization_id", "survey_id", "started_at", "submitted_at").first()
    if response is None:
        return False
    return mark_dirty(organization_id=response.organization_id, survey_id=response.survey_id,
                      days=days_of(response))


def mark_dirty(*, organization_id: int, survey_id: int, days: set[date]) -> bool:
    now, newly = _mark_clock(), False
    for day in sorted(days):
        if DirtyDay.objects.filter(survey_id=survey_id, day=day).update(marked_at=now):
            continue  # already marked: the rebuild waiting for it will see this answer too
        try:
            with transaction.atomic():
                DirtyDay.objects.create(organization_id=organization_id, survey_id=survey_id, day=day, marked_at=now)
            newly = True
        except IntegrityError:  # marked by someone else a moment ago
            pass
    return newly


def _mark_clock():
    """A mark's time, on the database's clock (workers' clocks may disagree): the start of the
    marking statement (Now() is STATEMENT_TIMESTAMP()), after the answer it marks for was
    committed."""
    return Now() if connection.vendor == "postgresql" else timezone.now()


def _rebuild_clock() -> datetime:
    """The database's clock now, read before a rebuild reads anything: every mark made up to
    then belongs to an answer committed before, which the rebuild's reading will see."""
    if connection.vendor != "postgresql":
        return timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        return cursor.fetchone()[0]


def _try_lock_day(survey_id: int, day: date) -> bool:
    """The (survey, day)'s exclusive lock if nobody holds it: a day another worker is rebuilding
    is left to it (its mark, if renewed meanwhile, outlives that rebuild and is taken next time)."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [DAY_LOCK_NAMESPACE, _day_key(survey_id, day)])
        return cursor.fetchone()[0]


LOST_REQUEST = timedelta(minutes=1)


def request_rebuild() -> bool:
    """Note that a rebuild run is wanted; False when one is already waiting (its message on the
    way), so the caller sends none. A request older than LOST_REQUEST is taken for lost."""
    now = timezone.now()
    try:
        with transaction.atomic():
            RebuildRequest.objects.create(pk=1, requested_at=now)
        return True
    except IntegrityError:
        return bool(RebuildRequest.objects.filter(pk=1, requested_at__lt=now - LOST_REQUEST)
                    .update(requested_at=now))


def take_rebuild_request() -> None:
    """A run starts: the marks made from now on ask for the next one."""
    RebuildRequest.objects.filter(pk=1).delete()


class Rebuilt(NamedTuple):
    days: int  # (survey, day)s rebuilt
    left: int  # marks this run rebuilt but could not clear: renewed meanwhile, or being renewed


def rebuild_dirty(batch_size: int = 100) -> int:
    """Rebuild the marked (survey, day)s; returns how many (see `rebuild_marked`)."""
    return rebuild_marked(batch_size).days


def rebuild_marked(batch_size: int = 100) -> Rebuilt:
    """Rebuild the (survey, day)s marked when the run starts, oldest mark first, `batch_size` per
    transaction.

    Marks are never held while a day is rebuilt, so the answers marking it meanwhile (the loop
    lane's workers) do not wait for a rebuild. A mark is deleted with its rebuild only if it is no
    newer than the moment the rebuild started reading, and only if no marker holds it right now
    (SKIP LOCKED: a marker renewing two days never deadlocks with the delete); any other is
    left, and the caller asks for another run. A day another worker is rebuilding is left to it.
    A worker killed mid-batch rolls back and leaves every mark it took."""
    rebuilt = left = 0
    last = DirtyDay.objects.aggregate(last=Max("pk"))["last"]
    seen: list[int] = []
    while last is not None:
        with transaction.atomic():
            started = _rebuild_clock()
            candidates = list(DirtyDay.objects.filter(pk__lte=last).exclude(pk__in=seen)
                              .select_related("organization").order_by("marked_at", "pk")[:batch_size])
            seen += [mark.pk for mark in candidates]
            by_org: dict[int, list[DirtyDay]] = {}
            for mark in candidates:
                by_org.setdefault(mark.organization_id, []).append(mark)
            taken = []
            for organization_id in sorted(by_org):  # one order of organizations, and of locks within
                marks = by_org[organization_id]
                organization = marks[0].organization
                _lock(organization.pk, shared=True)
                marks = [mark for mark in sorted(marks, key=lambda m: _day_key(m.survey_id, m.day))
                         if _try_lock_day(mark.survey_id, mark.day)]
                if not marks:
                    continue
                _lock_months((mark.survey_id, mark.day) for mark in marks)
                surveys_by_day: dict[date, set[int]] = {}
                for mark in marks:
                    surveys_by_day.setdefault(mark.day, set()).add(mark.survey_id)
                for day, survey_ids in sorted(surveys_by_day.items()):
                    _replace(organization, day, day + timedelta(days=1), survey_ids)
                taken += marks
            taken_ids = [mark.pk for mark in taken]
            clear = DirtyDay.objects.filter(pk__in=taken_ids, marked_at__lte=started)
            if connection.features.has_select_for_update_skip_locked:
                held = clear.select_for_update(no_key=True, skip_locked=True).values("pk")
                clear = DirtyDay.objects.filter(pk__in=held)
            clear.delete()
            left += DirtyDay.objects.filter(pk__in=taken_ids).count()
        rebuilt += len(taken)
        if len(candidates) < batch_size:
            break
    return Rebuilt(rebuilt, left)
