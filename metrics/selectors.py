"""Read queries behind the dashboards, the summary API and `cx_metrics`: figures from rollups
alone (metrics sits on top of the other apps, so it may read all of them)."""

import json
from dataclasses import dataclass, fields, replace
from datetime import date, timedelta
from operator import itemgetter

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import Count, Exists, OuterRef, Q, Sum, TextField, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce, TruncDay, TruncMonth, TruncWeek
from django.utils.translation import get_language

from cxplatform.models import Customer
from cxplatform.tenancy import scoped
from cxplatform.textinsight import concepts
from cxplatform.theme_catalog import catalog_for
from feedback.models import Team
from journeys.models import Channel, Touchpoint
from surveys.models import Answer, DistributionDay, ResponseTheme, Survey, SurveyType

from . import definitions, operations
from . import rollups as rollups_module
from .customer_value import customer_value
from .models import SCORE_COLUMNS, ChoiceRollup, DailyRollup, ThemeRollup

SCORE_METRICS = {SurveyType.NPS: "nps", SurveyType.CSAT: "csat", SurveyType.CES: "ces"}


@dataclass(frozen=True)
class Scope:
    """Which rollups a figure covers: the period [start, end) and optional group filters."""

    organization: object
    start: date
    end: date
    surveys: tuple[int, ...] = ()
    touchpoints: tuple[int, ...] = ()
    channels: tuple[int, ...] = ()
    segments: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    # (question id, option): only the responses that picked this option of this choice question.
    answer: tuple = ()

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def previous(self) -> "Scope":
        """The period of the same length just before this one."""
        return replace(self, start=self.start - timedelta(days=self.days), end=self.start)

    def as_dict(self) -> dict:
        return {"from": self.start.isoformat(), "to": (self.end - timedelta(days=1)).isoformat(),
                "survey": list(self.surveys), "touchpoint": list(self.touchpoints), "channel": list(self.channels),
                "segment": list(self.segments), "language": list(self.languages),
                "answer": {"question": self.answer[0], "option": self.answer[1]} if self.answer else None}


def _narrow(qs, scope: Scope, prefix: str = ""):
    """Keep the rows of the scope's surveys, touchpoints and channels (`prefix` reaches them
    through a relation, e.g. "distribution__")."""
    for ids, column in ((scope.surveys, "survey_id"), (scope.touchpoints, "touchpoint_id"),
                        (scope.channels, "channel_id")):
        if ids:
            qs = qs.filter(**{f"{prefix}{column}__in": ids})
    return qs


def rollups(scope: Scope):
    """The scope's rollup rows: DailyRollup, or — filtered by an answer — that option's ChoiceRollup
    rows, which carry the same sums over only the responses that picked it."""
    if scope.answer:
        question_id, option = scope.answer
        base = scoped(ChoiceRollup, scope.organization).filter(question_id=question_id, option=option)
    else:
        base = scoped(DailyRollup, scope.organization)
    qs = _narrow(base.filter(day__gte=scope.start, day__lt=scope.end), scope)
    if scope.segments:
        qs = qs.filter(segment__in=scope.segments)
    if scope.languages:
        qs = qs.filter(language__in=scope.languages)
    return qs


SENTIMENT_FIELDS = ["positive_comments", "neutral_comments", "negative_comments"]
SUM_FIELDS = ["responses", "skipped", "completed", "comments", *SENTIMENT_FIELDS, *SCORE_COLUMNS]
SCALES = {SurveyType.NPS: (0, 10), SurveyType.CSAT: (1, 5), SurveyType.CES: (1, 7)}


GRAINS = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth}  # a bucket is named by its first day


def grouped(scope: Scope, *by: str) -> list[dict]:
    """Rollup sums per survey type and the `by` columns (a grain name — "day", "week",
    "month" — is that bucket's first day), in one query: a page derives its figures and
    charts from these rows."""
    qs = rollups(scope)
    buckets = {g: GRAINS[g]("day") for g in by if g in GRAINS and g != "day"}
    if buckets:
        qs = qs.annotate(**buckets)
    return list(qs.values("survey__survey_type", *by).annotate(**{f: Sum(f) for f in SUM_FIELDS}).order_by())


def fold(rows, key) -> dict:
    """Add up the rows that share `key(row)`; a key of None drops the row."""
    folded: dict = {}
    for row in rows:
        k = key(row)
        if k is None:
            continue
        target = folded.setdefault(k, dict.fromkeys(SUM_FIELDS, 0))
        for f in SUM_FIELDS:
            target[f] += row[f] or 0
    return folded


def score_figure(survey_type: str, sums: dict):
    metric = SCORE_METRICS[SurveyType(survey_type)]
    counts = {i: sums.get(f"c{i}") or 0 for i in range(11)}
    return getattr(definitions, metric)(counts, skipped=sums.get("skipped") or 0)


def _csi_attributes(scope: Scope) -> dict[str, definitions.AttributeSums]:
    return _csi_attributes_by(scope, None).get(None, {})


def _csi_attributes_by(scope: Scope, column: str | None) -> dict:
    """{group: {attribute: sums}} of the scope's CSI rollups, grouped by `column` (None: one group)."""
    grouped_attributes: dict = {}
    if scope.answer:  # a choice rollup has no attribute sums: no CSI index for one option's answers
        return grouped_attributes
    rows = rollups(scope).filter(survey__survey_type=SurveyType.CSI)
    for group, row in rows.values_list(column or "survey__survey_type", "attributes"):
        attributes = grouped_attributes.setdefault(group if column else None, {})
        for key, (n, total, imp_n, imp_total) in (row or {}).items():
            a = attributes.setdefault(key, definitions.AttributeSums())
            a.n, a.score_sum = a.n + n, a.score_sum + total
            a.importance_n, a.importance_sum = a.importance_n + imp_n, a.importance_sum + imp_total
    return grouped_attributes


def figures_from(scope: Scope, rows: list[dict]) -> dict:
    """NPS, CSAT, CES and CSI (each from the surveys of its type), responses and response rate."""
    empty = dict.fromkeys(SUM_FIELDS, 0)
    by_type = fold(rows, lambda r: r["survey__survey_type"])
    result = {metric: score_figure(t, by_type.get(t, empty)) for t, metric in SCORE_METRICS.items()}
    csi_sums = by_type.get(SurveyType.CSI, empty)
    attributes = _csi_attributes(scope) if csi_sums["responses"] else {}
    result["csi"] = definitions.csi(attributes, responses=csi_sums["responses"], skipped=csi_sums["skipped"])
    totals = fold(rows, lambda r: "all").get("all", empty)
    result["responses"] = definitions.Figure("responses", totals["responses"], totals["responses"],
                                             totals["skipped"], {"comments": totals["comments"]})
    result["response_rate"] = definitions.response_rate(totals["completed"], opened(scope))
    result["sentiment"] = definitions.net_sentiment(
        totals["positive_comments"], totals["neutral_comments"], totals["negative_comments"])
    # From imported customer data: only the segment filter applies to customers.
    value = customer_value(scope.organization, scope.start, scope.end, scope.segments)
    result["churn_rate"], result["clv"] = value["churn_rate"], value["clv"]
    result.update(operations.inbox_figures(scope))
    result.update(operations.loop_figures(scope))
    return result


def figures(scope: Scope) -> dict:
    return figures_from(scope, grouped(scope))


def opened(scope: Scope) -> int:
    """Link openings in the scope (segment and language are unknown when a link is opened, so
    a scope filtered by them has no response rate)."""
    if scope.segments or scope.languages or scope.answer:
        return 0
    days = _narrow(DistributionDay.objects.filter(
        distribution__organization=scope.organization, day__gte=scope.start, day__lt=scope.end),
        scope, "distribution__")
    return days.aggregate(n=Sum("opened"))["n"] or 0


def summary(scope: Scope, now: dict | None = None) -> dict:
    """Every KPI with its change against the previous period and whether that change is
    significant: the one shape the dashboard, the API and `cx_metrics` all use."""
    now = now if now is not None else figures(scope)
    before = figures(scope.previous())
    return {
        "scope": scope.as_dict(),
        "metrics": {
            name: {**fig.as_dict(), "previous": before[name].as_dict(),
                   "change": definitions.difference(fig, before[name])}
            for name, fig in now.items()
        },
    }


def _names(model, organization) -> dict:
    return dict(scoped(model, organization).values_list("pk", "name"))


def grouped_sets(scope: Scope, *sets: tuple[str, ...]) -> list[list[dict]]:
    """`grouped(scope, *columns)` for each tuple of columns in `sets`. On PostgreSQL in one scan
    of the rollups (GROUP BY GROUPING SETS): a dashboard over two years reads each rollup row
    once, not once per chart."""
    if connection.vendor != "postgresql":
        return [grouped(scope, *columns) for columns in sets]
    qs = rollups(scope)
    database = connections[qs.db]  # the replica when the view reads from it (cxplatform/replica.py)
    where, params = qs.query.get_compiler(connection=database).compile(qs.query.where)
    rollup, survey = qs.model._meta.db_table, Survey._meta.db_table
    expressions = {"day": f'"{rollup}"."day"', "week": f"date_trunc('week', \"{rollup}\".\"day\")::date",
                   "month": f"date_trunc('month', \"{rollup}\".\"day\")::date",
                   **{c: f'"{rollup}"."{c}"' for c in ("touchpoint_id", "channel_id", "segment", "language")}}
    columns = list(dict.fromkeys(c for group in sets for c in group))
    masks = [sum(1 << (len(columns) - 1 - i) for i, c in enumerate(columns) if c not in group) for group in sets]
    survey_type = f'"{survey}"."survey_type"'
    grouping_sets = ", ".join("(" + ", ".join([survey_type, *(expressions[c] for c in group)]) + ")" for group in sets)
    # Names come from the fixed map above; every value is a parameter of the compiled WHERE.
    sql = (
        f"SELECT {survey_type}, GROUPING({', '.join(expressions[c] for c in columns)}), "  # noqa: S608
        + ", ".join(expressions[c] for c in columns) + ", "
        + ", ".join(f'SUM("{rollup}"."{f}")' for f in SUM_FIELDS)
        + f' FROM "{rollup}" INNER JOIN "{survey}" ON ("{rollup}"."survey_id" = "{survey}"."id")'
        + f" WHERE {where} GROUP BY GROUPING SETS ({grouping_sets})"
    )
    results: list[list[dict]] = [[] for _ in sets]
    with transaction.atomic(using=database.alias), database.cursor() as cursor:
        # Two years of rollups are tens of thousands of rows: within PostgreSQL's default 4 MB the
        # grouping sets sort twice, on disk (220 ms); with room it hashes them in one pass (65 ms).
        cursor.execute("SET LOCAL work_mem = '32MB'")
        cursor.execute(sql, params)
        for row in cursor.fetchall():
            index = masks.index(row[1])
            values = dict(zip(columns, row[2:2 + len(columns)], strict=True))
            sums = dict(zip(SUM_FIELDS, row[2 + len(columns):], strict=True))
            results[index].append({"survey__survey_type": row[0], **{c: values[c] for c in sets[index]}, **sums})
    return results


def _as_date(value) -> date:
    return value.date() if hasattr(value, "date") else value


BREAKDOWNS = ("touchpoint_id", "channel_id", "segment", "language")


def _ranked(figures_by_key: dict, names: dict) -> list[dict]:
    rows = [{"key": key, "name": names.get(key, key) if key not in (0, "") else "—", **fig.as_dict()}
            for key, fig in figures_by_key.items() if fig.n]
    return sorted(rows, key=lambda r: (r["value"] is None, -(r["value"] or 0)))


def _by_stage(survey_type: str, groups: list[dict], organization) -> list[dict]:
    """The figure per journey stage: the touchpoints' sums folded by the stage each touchpoint
    sits on today (map order, then stage order). Rows carry their touchpoints for drill-down."""
    placed = scoped(Touchpoint, organization).filter(stage__isnull=False).values_list(
        "pk", "stage_id", "stage__name", "stage__journey_map__name", "stage__journey_map_id", "stage__position")
    stage_of, stages = {}, {}
    for tp, stage, name, map_name, map_id, position in placed:
        stage_of[tp] = stage
        info = stages.setdefault(stage, {"name": f"{map_name} · {name}", "order": (map_id, position),
                                         "touchpoints": []})
        info["touchpoints"].append(tp)
    rows = []
    for stage, sums in fold(groups, lambda r: stage_of.get(r["touchpoint_id"])).items():
        fig = score_figure(survey_type, sums)
        if fig.n:
            info = stages[stage]
            rows.append({"key": stage, "name": info["name"], "touchpoints": info["touchpoints"],
                         "order": info["order"], **fig.as_dict()})
    return sorted(rows, key=itemgetter("order"))


def dashboard(scope: Scope, survey_type: str = SurveyType.NPS, grain: str = "week") -> dict:
    """Everything the dashboard page shows, from one pass over the rollups (plus the
    previous period's totals): KPIs, the `survey_type` metric's trend by `grain`, its score
    distribution, touchpoint × `grain` heat map and breakdowns by touchpoint, channel, segment,
    language and journey stage."""
    rows, all_groups = grouped_sets(scope, (grain, "touchpoint_id"), BREAKDOWNS)
    of_type = [r for r in rows if r["survey__survey_type"] == survey_type]
    groups = [r for r in all_groups if r["survey__survey_type"] == survey_type]
    names = {"touchpoint_id": _names(Touchpoint, scope.organization), "channel_id": _names(Channel, scope.organization),
             "segment": {}, "language": dict(settings.LANGUAGES)}

    per_bucket = fold(of_type, lambda r: r[grain])
    trend = [{"period": _as_date(b), "days": coverage(_as_date(b), grain, scope),
              **score_figure(survey_type, sums).as_dict()}
             for b, sums in sorted(per_bucket.items())]
    breakdowns = {
        column: _ranked({k: score_figure(survey_type, sums) for k, sums in fold(groups, itemgetter(column)).items()},
                        names[column])
        for column in BREAKDOWNS
    }
    breakdowns["stage"] = _by_stage(survey_type, groups, scope.organization)

    low, high = SCALES[SurveyType(survey_type)]
    total = fold(of_type, lambda r: "all").get("all", {})
    distribution = {i: total.get(f"c{i}", 0) for i in range(low, high + 1)}

    cells = {key: score_figure(survey_type, sums)
             for key, sums in fold(of_type, lambda r: (r["touchpoint_id"], r[grain])).items()}
    buckets = sorted(per_bucket)
    tp_names = names["touchpoint_id"]
    touchpoints = sorted({tp for tp, _b in cells}, key=lambda t: tp_names.get(t, ""))
    heatmap = {
        "periods": [_as_date(b) for b in buckets],
        "days": [coverage(_as_date(b), grain, scope) for b in buckets],
        "touchpoints": [(t, tp_names.get(t, "—")) for t in touchpoints],
        "values": [[c.value if (c := cells.get((t, b))) else None for b in buckets] for t in touchpoints],
        "n": [[c.n if (c := cells.get((t, b))) else 0 for b in buckets] for t in touchpoints],
    }
    return {
        "summary": summary(scope, figures_from(scope, rows)),
        "trend": trend,
        "breakdowns": breakdowns,
        "distribution": distribution,
        "heatmap": heatmap,
    }


def coverage(bucket: date, grain: str, scope: Scope) -> tuple[int, int]:
    """(days of the `grain` bucket starting on `bucket` that the scope covers, days of the bucket):
    a week or month cut by the period's start or end — the current one, ending today — is partial,
    and charts mark it rather than draw it like a whole one."""
    end = bucket_end(bucket, grain)
    return (min(end, scope.end) - max(bucket, scope.start)).days, (end - bucket).days


def bucket_end(start: date, grain: str) -> date:
    """The first day after the `grain` bucket that starts on `start`."""
    if grain == "day":
        return start + timedelta(days=1)
    if grain == "week":
        return start + timedelta(days=7)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def _responses(scope: Scope):
    """The responses of the scope's days and groups, as the rollups count them."""
    qs = _narrow(rollups_module.responses_in(scope.organization, scope.start, scope.end), scope)
    if scope.segments:
        attr = scope.organization.segment_attribute or "segment"
        # The rollups' own expression, so the list matches the figure (and SQLite can compare it).
        seg = Coalesce(KeyTextTransform(attr, "customer__attributes"), Value(""), output_field=TextField())
        qs = qs.annotate(seg=seg).filter(seg__in=scope.segments)
    if scope.languages:
        qs = qs.filter(language__in=scope.languages)
    if scope.answer:
        qs = qs.filter(Exists(_picked(*scope.answer)))
    return qs


def _picked(question_id: int, option: str):
    """The answers to `question_id` that picked `option` (a JSON list holding it)."""
    answers = Answer.objects.filter(response=OuterRef("pk"), question_id=question_id)
    if connection.vendor == "postgresql":
        return answers.filter(choices__contains=[option])
    return answers.filter(choices__icontains=json.dumps(option))  # SQLite has no JSON containment


def responses_behind(scope: Scope, survey_type: str | None = None, scores=(), theme: str = "",
                     sentiment: int | None = None):
    """The responses a figure of `scope` counts (the drill-down under every chart): the same
    days, groups and "answered" rule as the rollups, so the list's length is the figure's n.
    A theme or a sentiment lists the comments behind that figure instead."""
    qs = _responses(scope)
    if theme or sentiment is not None:
        qs = qs.exclude(comment="")
        if theme:
            keys = theme_keys(scope.organization, theme, scope.start, scope.end)
            qs = qs.filter(Exists(ResponseTheme.objects.filter(response=OuterRef("pk"), phrase__in=keys)))
        if sentiment is not None:
            qs = qs.filter(sentiment=sentiment)
    else:
        qs = qs.annotate(rated=rollups_module.rated()).filter(rollups_module.ANSWERED)
    if survey_type:
        qs = qs.filter(survey__survey_type=survey_type)
    if scores:
        qs = qs.filter(score__in=list(scores))
    return qs.select_related("survey", "touchpoint", "channel", "customer").order_by("-moment", "-id")


# The Scope fields ThemeRollup has a column for. A scope filtered by anything else (an answer, or a
# filter added to Scope later) has its themes counted from the comments themselves.
THEME_ROLLUP_FILTERS = frozenset({"organization", "start", "end", "surveys", "touchpoints", "channels", "segments",
                                  "languages"})
THEME_SUMS = ("mentions", "positive", "neutral", "negative")


def theme_rollup_serves(scope: Scope) -> bool:
    """Whether every filter of `scope` is a key of ThemeRollup (the one place that decides)."""
    return not any(getattr(scope, f.name) for f in fields(scope) if f.name not in THEME_ROLLUP_FILTERS)


def _theme_rollup_rows(organization, start: date, end: date, *, by_group: bool = True):
    """ThemeRollup rows covering [start, end) once: the month rows of the months wholly inside it
    (per group, or per survey when `by_group` is false), the day rows of the days around them."""
    first = start if start.day == 1 else bucket_end(start, "month")
    last = end.replace(day=1)
    day_rows = Q(grain=ThemeRollup.DAY)
    if first >= last:  # no whole month inside
        period = day_rows & Q(day__gte=start, day__lt=end)
    else:
        month = ThemeRollup.MONTH if by_group else ThemeRollup.SURVEY_MONTH
        period = (Q(grain=month, day__gte=first, day__lt=last)
                  | (day_rows & (Q(day__gte=start, day__lt=first) | Q(day__gte=last, day__lt=end))))
    return scoped(ThemeRollup, organization).filter(period)


def _theme_sums_from_rollup(scope: Scope):
    by_group = bool(scope.touchpoints or scope.channels or scope.segments or scope.languages)
    qs = _narrow(_theme_rollup_rows(scope.organization, scope.start, scope.end, by_group=by_group), scope)
    if scope.segments:
        qs = qs.filter(segment__in=scope.segments)
    if scope.languages:
        qs = qs.filter(language__in=scope.languages)
    return qs.values_list("theme").annotate(**{f"n_{f}": Sum(f) for f in THEME_SUMS}).order_by()


def _theme_sums_from_comments(scope: Scope):
    """The same sums counted from the theme rows of the scope's comments: O(comments)."""
    commented = _responses(scope).exclude(comment="").values("pk")
    return (ResponseTheme.objects.filter(organization=scope.organization, response__in=commented)
            .values_list("phrase")
            .annotate(n_mentions=Count("id"), n_positive=Count("id", filter=Q(sentiment__gt=0)),
                      n_neutral=Count("id", filter=Q(sentiment=0)), n_negative=Count("id", filter=Q(sentiment__lt=0)))
            .order_by())


def theme_sums(scope: Scope) -> dict[str, dict[str, int]]:
    """Stored theme key → its mentions and their positive, neutral and negative counts (by the sign
    of the theme's own clauses) in `scope`: from ThemeRollup when it serves the scope's filters,
    otherwise from the comments."""
    rows = _theme_sums_from_rollup(scope) if theme_rollup_serves(scope) else _theme_sums_from_comments(scope)
    return {key: dict(zip(THEME_SUMS, sums, strict=True)) for key, *sums in rows}


def top_themes(scope: Scope, limit: int = 10, language: str | None = None) -> list[dict]:
    """The most recurring themes of the scope's comments as the organization names them (merged
    keys summed, hidden ones left out, labels in `language`, default the active one), each with
    the shares of its mentions that were negative and positive in the theme's own clauses. A free
    word is left out when a pair with it ("battery" in "battery range") covers most of its
    mentions: the pair says more."""
    catalog = catalog_for(scope.organization)
    language = language or get_language() or settings.LANGUAGE_CODE
    folded: dict[str, dict[str, int]] = {}
    for key, sums in theme_sums(scope).items():
        canonical = catalog.canonical(key)
        if canonical is None:
            continue
        target = folded.setdefault(canonical, dict.fromkeys(THEME_SUMS, 0))
        for name in THEME_SUMS:
            target[name] += sums[name] or 0
    rows = sorted(({"phrase": key, **sums} for key, sums in folded.items() if sums["mentions"] >= 2),
                  key=lambda r: (-r["mentions"], r["phrase"]))[: limit * 4]
    concept_keys = concepts.dictionary().keys()
    pairs = [r for r in rows if " " in r["phrase"]]
    kept = [
        r for r in rows
        if " " in r["phrase"] or r["phrase"] in concept_keys
        or not any(r["phrase"] in p["phrase"].split() and p["mentions"] >= 0.6 * r["mentions"] for p in pairs)
    ][:limit]
    for r in kept:
        r["label"] = catalog.label(r["phrase"], language)
        r["negative_share"] = round(100 * r["negative"] / r["mentions"])
        r["positive_share"] = round(100 * r["positive"] / r["mentions"])
    return kept


def theme_keys(organization, theme: str, start: date, end: date) -> set[str]:
    """The stored keys a theme of the organization's pages counts: itself and every key merged into
    it (found among the keys of the period's theme rollups)."""
    catalog = catalog_for(organization)
    stored = (_theme_rollup_rows(organization, start, end, by_group=False)
              .values_list("theme", flat=True).distinct().order_by())
    return {theme} | {key for key in stored if catalog.canonical(key) == theme}


def segments(organization) -> list[str]:
    """The segment values of the organization's customers (cheap: customers, not responses)."""
    attr = organization.segment_attribute or "segment"
    values = (scoped(Customer, organization).order_by().annotate(seg=KeyTextTransform(attr, "attributes"))
              .values_list("seg", flat=True).distinct())
    return sorted(v for v in values if v)


def by_touchpoint(scope: Scope) -> list[dict]:
    """Each touchpoint's score figures (NPS, CSAT, CES and CSI where answered), with the change
    against the previous period: the frontline view's table and the journey map's live figures."""
    names = _names(Touchpoint, scope.organization)
    now = fold(grouped(scope, "touchpoint_id"), lambda r: (r["touchpoint_id"], r["survey__survey_type"]))
    before = fold(grouped(scope.previous(), "touchpoint_id"),
                  lambda r: (r["touchpoint_id"], r["survey__survey_type"]))
    empty = dict.fromkeys(SUM_FIELDS, 0)
    csi_now = _csi_attributes_by(scope, "touchpoint_id") if any(t == SurveyType.CSI for _tp, t in now) else {}
    csi_before = _csi_attributes_by(scope.previous(), "touchpoint_id") if csi_now else {}

    def figure_of(survey_type, sums, tp, attributes):
        if survey_type == SurveyType.CSI:
            return definitions.csi(attributes.get(tp, {}), responses=sums["responses"], skipped=sums["skipped"])
        return score_figure(survey_type, sums)

    rows = {}
    for (tp, survey_type), sums in now.items():
        if survey_type not in (*SCORE_METRICS, SurveyType.CSI) or not tp:
            continue
        fig = figure_of(survey_type, sums, tp, csi_now)
        if not fig.n:
            continue
        previous = figure_of(survey_type, before.get((tp, survey_type), empty), tp, csi_before)
        row = rows.setdefault(tp, {"key": tp, "name": names.get(tp, "—"), "figures": {}})
        row["figures"][fig.metric] = {**fig.as_dict(), "change": definitions.difference(fig, previous)}
    return sorted(rows.values(), key=lambda r: r["name"])


def call_backs(scope: Scope, limit: int = 20):
    """The scope's latest unhappy answers (detractors, low CSAT, hard CES) with a comment or a
    known customer: who the frontline should call back first."""
    unhappy = Q(band__in=["detractor", "low"]) | Q(sentiment=-1)
    return (_responses(scope).filter(unhappy).exclude(comment="", customer__isnull=True)
            .select_related("survey", "touchpoint", "customer").order_by("-moment", "-id")[:limit])


def recent_comments(scope: Scope, limit: int = 10):
    """The scope's latest comments with their sentiment, newest first (the touchpoint page)."""
    return (_responses(scope).exclude(comment="").select_related("survey", "channel")
            .order_by("-moment", "-id")[:limit])


def teams(organization) -> list:
    return list(scoped(Team, organization).prefetch_related("members", "touchpoints"))
