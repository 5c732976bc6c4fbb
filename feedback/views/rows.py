"""What the inbox list shows of each item, prepared and rendered in Python: a page of 50 rows is
rendered on every keystroke of an agent's day, and the template engine's per-row lookups, filters
and form widgets were most of its server time at a million items (bench/inbox.py). Every value goes
through `format_html`, so customer text is escaped exactly as a template would."""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from cxplatform import dates

from .. import sla
from ..models import FeedbackItem
from ..selectors import theme_chips


@dataclass(frozen=True)
class Labels:
    """The words every row shares, translated once per page."""

    score: str
    due: str
    reply_due: str
    checkboxes: bool  # the agent may act on the items (bulk selection)


@dataclass(frozen=True)
class Row:
    pk: int
    version: int
    url: str
    text: str
    source: str
    customer: str
    touchpoint: str
    rating: int | None
    sentiment: str  # "positive", "neutral", "negative" or ""
    sentiment_label: str
    tags: list[str]
    priority: int
    priority_label: str
    status: str
    assignee: str
    team: str
    sla_state: str
    sla_label: str
    due: str
    due_label: str  # which due time: the first reply's until there is one, then the resolution's
    received: str
    labels: Labels
    themes: tuple = ()  # selectors.theme_chips: the organization's names of the text's themes

    def __str__(self):
        return self.__html__()

    def __html__(self) -> str:
        meta = [format_html('<span class="source">{}</span>', self.source)]
        meta += [format_html(" · {}", value) for value in (self.customer, self.touchpoint) if value]
        if self.rating is not None:
            meta.append(format_html(" · {} {}", self.labels.score, self.rating))
        if self.sentiment:
            meta.append(format_html(' · <span class="sentiment {}">{}</span>', self.sentiment, self.sentiment_label))
        meta += [format_html(' <span class="badge tag">{}</span>', tag) for tag in self.tags]
        meta += [format_html(' <span class="badge theme {}">{}</span>', chip["sentiment"], chip["label"])
                 for chip in self.themes]
        sla = format_html('<span class="{}">{}</span>', "error" if self.sla_state == "breached" else "warn",
                          self.sla_label) if self.sla_label else ""
        due = format_html('<div class="muted">{} {}</div>', self.due_label, self.due) if self.due else ""
        team = format_html('<div class="muted">{}</div>', self.team) if self.team else ""
        box = format_html('<td class="select"><input type="checkbox" name="items" value="{}:{}" aria-label="#{}"></td>',
                          self.pk, self.version, self.pk) if self.labels.checkboxes else ""
        return format_html(
            '<tr data-item="{pk}" data-url="{url}" data-version="{version}"{sla_class}>{box}'
            '<td class="priority-cell"><span class="priority p{priority}">{priority_label}</span></td>'
            '<td class="words"><a href="{url}" class="open">{text}</a><div class="meta muted">{meta}</div></td>'
            '<td class="status">{status}</td><td class="assignee">{assignee}{team}</td><td class="sla">{sla}{due}</td>'
            '<td class="received">{received}</td></tr>',
            pk=self.pk, url=self.url, version=self.version, box=box, priority=self.priority,
            sla_class=format_html(' class="sla-{}"', self.sla_state) if self.sla_state else "",
            priority_label=self.priority_label, text=self.text, meta=mark_safe("".join(meta)),  # noqa: S308 — each part made by format_html  # nosec B308 B703
            status=self.status, assignee=self.assignee or "—", team=team, sla=sla, due=due, received=self.received)


def rows(items, *, checkboxes: bool = True, catalog=None) -> list[Row]:
    sentiments = {1: ("positive", _("positive")), 0: ("neutral", _("neutral")), -1: ("negative", _("negative"))}
    sla_labels = {"breached": _("breached"), "at_risk": _("about to breach")}
    # Labels translated once per page, not once per row.
    priorities, statuses, sources = ({value: str(label) for value, label in choices} for choices in (
        FeedbackItem.Priority.choices, FeedbackItem.Status.choices, FeedbackItem.Source.choices))
    url = reverse("feedback:item_detail", args=[0])[:-2]  # ".../items/" — one reverse for the page
    labels = Labels(score=_("score"), due=_("due"), reply_due=_("first response due"), checkboxes=checkboxes)
    language = get_language()
    out = []
    for item in items:
        sentiment, sentiment_label = sentiments.get(item.sentiment, ("", ""))
        due = sla.next_due(item) if item.status not in sla.DONE else None
        replying = due is not None and sla.awaits_first_response(item)
        assignee = item.assignee
        out.append(Row(
            pk=item.pk, version=item.version, url=f"{url}{item.pk}/", text=_short(item.display_text),
            source=sources.get(item.source, item.source), customer=str(item.customer) if item.customer else "",
            touchpoint=item.touchpoint.name if item.touchpoint else "", rating=item.rating, sentiment=sentiment,
            sentiment_label=sentiment_label, tags=[t.shown_name for t in item.tags.all()], priority=item.priority,
            priority_label=priorities.get(item.priority, ""), status=statuses.get(item.status, ""),
            assignee=(assignee.get_full_name() or assignee.username) if assignee else "",
            team=item.team.name if item.team else "", sla_state=item.sla_state,
            sla_label=sla_labels.get(item.sla_state, ""),
            # The due time the SLA state is about ("breached" beside a resolution days away read wrong).
            due=dates.moment(due) if due else "", due_label=labels.reply_due if replying else labels.due,
            received=dates.moment(item.received_at), labels=labels,
            themes=tuple(theme_chips(item.themes.all(), catalog, language)) if catalog is not None else (),
        ))
    return out


def _short(text: str, length: int = 180) -> str:
    return text if len(text) <= length else text[:length - 1].rstrip() + "…"


def _choices(field):
    """A field's choices; a model field's read with one plain query (Django's choice iterator
    opens a server-side cursor per field, a millisecond or two each on PostgreSQL)."""
    form_field = field.field
    queryset = getattr(form_field, "queryset", None)
    if queryset is None:
        return form_field.choices
    empty = [("", form_field.empty_label)] if form_field.empty_label is not None else []
    return empty + [(form_field.prepare_value(obj), form_field.label_from_instance(obj)) for obj in queryset]


def options(field, value) -> str:
    """A select's options as HTML (escaped), without the widget templates' cost per option."""
    current = "" if value is None else str(value)
    return format_html_join("", "<option value=\"{}\"{}>{}</option>", (
        (choice, mark_safe(" selected") if str(choice) == current else "", label)  # noqa: S308 — a constant  # nosec B308 B703
        for choice, label in _choices(field)))
