"""Read queries of the inbox."""

import hashlib
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db import connection
from django.db.models import BooleanField, Count, Exists, OuterRef, Q, Value
from django.db.models.expressions import RawSQL
from django.utils import timezone

from cxplatform import dates
from cxplatform.charts import figure_json
from cxplatform.input_checks import parse_int
from cxplatform.tenancy import scoped
from cxplatform.textinsight.tokens import query_words
from cxplatform.theme_catalog import ThemeCatalog, catalog_for

from . import sla
from .models import FeedbackItem, ItemTheme

# The GIN-indexed array of migration 0017 (PostgreSQL only, generated from `search_words`): the
# item's search forms contain every query word.
HAS_WORDS = "\"feedback_feedbackitem\".\"search_terms\" @> %s::text[]"
PAGE = 50

SOON = timedelta(hours=2)  # "breaching soon": the next SLA target falls within this


def breaching(now=None) -> Q:
    """Open items at risk or past their SLA: flagged by the beat check, or due within SOON."""
    soon = (now or timezone.now()) + SOON
    return (~Q(sla_state="") | Q(first_responded_at__isnull=True, first_response_due__lt=soon)
            | Q(resolution_due__lt=soon))


def _view(qs, view: str, user):
    if view == "all":
        return qs
    qs = qs.filter(status__in=sla.OPEN)
    if view == "mine":
        return qs.filter(assignee=user)
    if view == "unassigned":
        return qs.filter(assignee__isnull=True)
    if view == "cases":
        return qs.filter(kind=FeedbackItem.Kind.CASE)
    if view == "urgent":
        return qs.filter(priority=FeedbackItem.Priority.URGENT)
    if view == "breaching":
        return qs.filter(breaching())
    return qs


def items(organization, filters=None, user=None):
    """The organization's items, newest first, in a view (open by default; a status filter looks
    at every item) narrowed by the inbox's filters (`InboxFilterForm.filters()`)."""
    qs = scoped(FeedbackItem, organization).select_related("customer", "touchpoint", "assignee", "team")
    filters = filters or {}
    view = filters.get("view") or ("all" if filters.get("status") else "open")
    qs = _view(qs, view, user)
    for name in ("status", "source", "priority", "sentiment", "team", "touchpoint"):
        if filters.get(name) is not None:
            qs = qs.filter(**{name: filters[name]})
    assignee = filters.get("assignee")
    if assignee == "me":
        qs = qs.filter(assignee=user)
    elif assignee == "none":
        qs = qs.filter(assignee__isnull=True)
    elif assignee:
        qs = qs.filter(assignee_id=int(assignee))
    if filters.get("tag"):
        qs = qs.filter(tags=filters["tag"])
    if filters.get("theme"):
        qs = with_theme(qs, filters["theme"], catalog_for(organization))
    if filters.get("q"):
        qs = search(qs, filters["q"])
    return qs.prefetch_related("tags", "themes").order_by("-received_at", "-id")


# --- Themes (read by a worker into ItemTheme; shown through the organization's catalog) ----------

def keys_under(key: str, catalog: ThemeCatalog) -> set[str]:
    """The stored keys that count under the theme `key`: itself and every key merged into it."""
    if catalog.canonical(key) != key:
        return set()  # hidden, or itself merged into another: nothing shows under it
    return {key} | {k for k in catalog.merged_into if catalog.canonical(k) == key}


def with_theme(qs, key: str, catalog: ThemeCatalog):
    """Items with the theme `key` (merged keys included)."""
    return qs.filter(Exists(ItemTheme.objects.filter(item=OuterRef("pk"), key__in=keys_under(key, catalog))))


def theme_chips(themes, catalog: ThemeCatalog, language: str) -> list[dict]:
    """An item's themes (its ItemTheme rows) as the organization names them, hidden ones left out and
    merged ones once, each with the sign of its clauses."""
    scores: dict[str, int] = {}
    for row in sorted(themes, key=lambda row: row.pk):
        key = catalog.canonical(row.key)
        if key is not None:
            scores[key] = scores.get(key, 0) + (row.sentiment or 0)
    signs = {1: "positive", 0: "neutral", -1: "negative"}
    return [{"key": key, "label": catalog.label(key, language), "sentiment": signs[(score > 0) - (score < 0)]}
            for key, score in scores.items()]


THEME_CHOICES = 300  # the inbox's theme filter offers the most frequent ones
# The count behind the choices reads every theme row of the organization: the inbox, its busiest
# page, reuses it for a minute (per process) instead of grouping a million rows on every load.
THEME_CHOICES_SECONDS = 60


def theme_choices(organization, language: str) -> list[tuple[str, str]]:
    """The themes the organization's items have (most frequent first, after merges), as (key, label)
    sorted by label: the inbox's theme filter. Cached briefly, keyed by the catalog too, so an edit
    of the themes shows at once."""
    catalog = catalog_for(organization)
    digest = hashlib.sha256(repr(catalog).encode()).hexdigest()[:16]
    return cache.get_or_set(f"inbox-theme-choices:{organization.pk}:{language}:{digest}",
                            lambda: _theme_choices(organization, language, catalog), THEME_CHOICES_SECONDS)


def _theme_choices(organization, language: str, catalog) -> list[tuple[str, str]]:
    counts: dict[str, int] = {}
    for key, n in (ItemTheme.objects.filter(organization=organization).values_list("key")
                   .annotate(n=Count("id")).order_by("-n", "key")[:THEME_CHOICES * 3]):
        shown = catalog.canonical(key)
        if shown is not None:
            counts[shown] = counts.get(shown, 0) + n
    top = sorted(counts, key=lambda key: -counts[key])[:THEME_CHOICES]
    return sorted(((key, catalog.label(key, language)) for key in top), key=lambda choice: choice[1].lower())


def view_counts(organization, user) -> dict:
    """How many open items each built-in view holds (one pass over the open items)."""
    # COUNT(1) rather than COUNT(id), so PostgreSQL answers from the covering index alone.
    one = Value(1)
    return scoped(FeedbackItem, organization).filter(status__in=sla.OPEN).aggregate(
        open=Count(one), mine=Count(one, filter=Q(assignee=user)),
        cases=Count(one, filter=Q(kind=FeedbackItem.Kind.CASE)),
        unassigned=Count(one, filter=Q(assignee__isnull=True)),
        urgent=Count(one, filter=Q(priority=FeedbackItem.Priority.URGENT)),
        breaching=Count(one, filter=breaching()))


def saved_views(organization, user):
    from .models import SavedView

    return scoped(SavedView, organization).filter(Q(owner=user) | Q(shared=True)).select_related("owner")


def search(qs, words: str):
    """Items whose text has every word of `words` in any form and case (its function words left
    out): the query goes through the normaliser the items' texts went through
    (textinsight.tokens.query_words, then search_words), and the match is
    the same on PostgreSQL (containment in an indexed array generated from the same words) and on
    SQLite (a substring of the space-separated words) — docs/adr/0016."""
    wanted = query_words(words)
    if not wanted:
        return qs.none()
    if connection.vendor == "postgresql":
        # The SQL is our constant; the words are a parameter.
        found = RawSQL(HAS_WORDS, (wanted,), output_field=BooleanField())  # noqa: S611 — constant SQL, words as parameters  # nosec B611
        return qs.annotate(found=found).filter(found=True)
    for word in wanted:
        qs = qs.filter(search_words__contains=f" {word} ")
    return qs


def page_after(qs, cursor: str = "") -> tuple[list, str]:
    """One page of `qs` (newest first) after `cursor` ("<received_at ISO>_<id>" of the last row
    seen), and the cursor of the next page: keyset pagination, as fast on page 1,000 as on page 1."""
    if cursor:
        try:
            moment, pk = cursor.rsplit("_", 1)
            moment, pk = datetime.fromisoformat(moment), parse_int(pk, low=1)
        except ValueError:
            moment = None
        if moment is not None:
            qs = qs.filter(Q(received_at__lt=moment) | Q(received_at=moment, id__lt=pk))
    rows = list(qs[:PAGE + 1])
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    return rows, (f"{rows[-1].received_at.isoformat()}_{rows[-1].pk}" if more else "")


def customer_profile(customer, exclude_item=None, limit: int = 30) -> dict:
    """The customer's 360° view for an agent: their segment, every survey answer with its score
    (for the scores-over-time chart), and their other inbox items."""
    from surveys.models import Response

    responses = list(Response.objects.filter(organization_id=customer.organization_id, customer=customer)
                     .exclude(status=Response.Status.STARTED).select_related("survey", "touchpoint")
                     .order_by("-submitted_at", "-id")[:limit])
    others = (FeedbackItem.objects.filter(organization_id=customer.organization_id, customer=customer)
              .select_related("touchpoint").order_by("-received_at", "-id"))
    if exclude_item is not None:
        others = others.exclude(pk=exclude_item.pk)
    segment_attribute = customer.organization.segment_attribute or "segment"
    return {"customer": customer, "segment": (customer.attributes or {}).get(segment_attribute, ""),
            "responses": responses, "items": list(others[:limit]), "item_count": others.count(),
            "chart": _scores_chart(responses)}


def _scores_chart(responses) -> str:
    """One line per survey type (each on its own scale), oldest answer first."""
    by_type: dict[str, list] = {}
    for r in sorted((r for r in responses if r.score is not None and r.submitted_at), key=lambda r: r.submitted_at):
        by_type.setdefault(r.survey.survey_type, []).append(r)
    if not by_type:
        return ""
    data = [{"type": "scatter", "mode": "lines+markers", "name": kind.upper(),
             "x": [r.submitted_at.isoformat() for r in rows], "y": [r.score for r in rows],
             "text": [f"{r.survey.name} · {r.touchpoint.name if r.touchpoint else ''}" for r in rows],
             "hovertemplate": "%{x|" + dates.d3_day() + "}: %{y} · %{text}<extra>" + kind.upper() + "</extra>"}
            for kind, rows in by_type.items()]
    layout = {"height": 180, "margin": {"l": 30, "r": 10, "t": 10, "b": 30}, "showlegend": len(data) > 1,
              "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)",
              "xaxis": {"fixedrange": True}, "yaxis": {"fixedrange": True, "rangemode": "tozero"}}
    return figure_json(data, layout)


def open_pain_points(organization):
    """The open pain points of the organization's journey maps, an item can be evidence for."""
    from journeys.models import PainPoint

    return (scoped(PainPoint, organization).filter(status=PainPoint.Status.OPEN)
            .select_related("journey_map", "touchpoint").order_by("journey_map__name", "-severity", "id"))


# Inbox parameters that are no filter: the page's cursor and the saved view it came from.
NOT_FILTERS = {"after", "saved"}


def filter_query(query) -> str:
    """The filter part of an inbox query string (a QueryDict), in a stable order: what a saved view keeps."""
    from urllib.parse import urlencode

    pairs = sorted((k, v) for k, values in query.lists() if k not in NOT_FILTERS for v in values if v)
    return urlencode(pairs)
