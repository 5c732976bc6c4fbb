"""Trigger rules as the manager sees them: the form that writes one ("CES 2 hours after a repair
is closed"), the reads behind their pages (the funnel, the history of received events and what
became of each one's invitation) and the example call of the API. Receiving a trigger is
`services.receive_trigger`; sending it is `sending`."""

import json
from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from cxplatform.versioning import VersionedModelForm
from surveys.forms import LocalizedFieldsMixin
from surveys.models import Distribution, Survey

from . import selectors, texts
from .models import Invitation, Medium, TriggerEvent, TriggerRule
from .services import BUILT_IN_EVENTS

MAX_DELAY_MINUTES = 90 * 24 * 60  # a survey asked three months after the event is no longer about it
MAX_REMINDER_DAY = 60
UNITS = {"minutes": 1, "hours": 60, "days": 24 * 60}


def event_names(organization) -> list[str]:
    """The events a rule may listen to: the platform's own, those of the organization's rules and
    every event another system has sent it (an index-only scan of the history index)."""
    seen = set(TriggerEvent.objects.filter(organization=organization).order_by()
               .values_list("event", flat=True).distinct())
    ruled = set(TriggerRule.objects.filter(organization=organization).values_list("event", flat=True))
    return sorted(BUILT_IN_EVENTS | seen | ruled)


def links_for(organization, current: Distribution | None = None) -> QuerySet[Distribution]:
    """The survey links a rule may send: the organization's active ones (and the rule's own)."""
    open_links = Q(active=True, survey__status=Survey.Status.ACTIVE)
    if current is not None and current.pk:
        open_links |= Q(pk=current.pk)
    return (Distribution.objects.for_org(organization).filter(open_links)
            .select_related("survey").order_by("survey__name", "name"))


class LinkChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.survey.name} — {obj.name}"


class TriggerRuleForm(LocalizedFieldsMixin, VersionedModelForm):
    """A rule: the event, the survey link, the delay (in minutes, hours or days), the message per
    language (prefilled with the default wording), reminders."""

    delay = forms.IntegerField(label=gettext_lazy("Delay"), min_value=0, initial=0,
                               help_text=gettext_lazy("How long after the event the invitation goes out."))
    delay_unit = forms.ChoiceField(label=gettext_lazy("Unit"), initial="hours", choices=[
        ("minutes", gettext_lazy("minutes")), ("hours", gettext_lazy("hours")), ("days", gettext_lazy("days"))])
    reminders = forms.CharField(
        label=gettext_lazy("Reminders after (days)"), required=False, max_length=100,
        help_text=gettext_lazy("Days after the invitation to remind those who have not answered, e.g. 3, 7. "
                               "Leave empty for none."))

    class Meta:
        model = TriggerRule
        fields = ["name", "event", "distribution", "medium", "active"]
        field_classes = {"distribution": LinkChoiceField}

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        rule = self.instance
        self.fields["distribution"].queryset = links_for(organization, rule.distribution if rule.distribution_id
                                                         else None)
        self.fields["event"].widget.attrs.update({"list": "trigger-events", "autocomplete": "off",
                                                 "placeholder": "order_delivered"})
        self.fields["event"].help_text = _("The name other systems send, e.g. order_delivered; "
                                           "inbox_item_resolved is sent by the inbox itself.")
        if not rule.pk:  # a new rule starts from the default wording in every language
            rule.subject, rule.body = texts.defaults(medium=rule.medium or Medium.EMAIL)
        self.localized = [
            ("subject", _("Subject"), forms.TextInput),
            ("body", _("Message"), forms.Textarea(attrs={"rows": 5})),
        ]
        self.add_localized_fields(rule)
        minutes = rule.delay_minutes or 0
        unit = next((name for name in ("days", "hours") if minutes and minutes % UNITS[name] == 0),
                    "minutes" if minutes else "hours")
        self.initial.setdefault("delay", minutes // UNITS[unit])
        self.initial.setdefault("delay_unit", unit)
        self.initial.setdefault("reminders", ", ".join(str(d) for d in rule.reminder_days or []))
        # The delay next to its unit, the texts after the link and the medium.
        order = ["name", "event", "distribution", "delay", "delay_unit", "medium"]
        self.order_fields([*order, *[f for f in self.fields if f.startswith(("subject_", "body_"))],
                           "reminders", "active", "version"])

    def clean_event(self):
        return self.cleaned_data["event"].strip().lower()

    def clean_reminders(self):
        days = set()
        for part in self.cleaned_data["reminders"].replace(";", ",").split(","):
            part = part.strip()
            if not part:
                continue
            if not (part.isascii() and part.isdigit()) or not 1 <= int(part) <= MAX_REMINDER_DAY:
                raise forms.ValidationError(
                    _("Write whole numbers of days from 1 to %(limit)d, separated by commas.")
                    % {"limit": MAX_REMINDER_DAY})
            days.add(int(part))
        return sorted(days)

    def clean(self):
        data = super().clean()
        if data.get("delay") is not None and data.get("delay_unit") in UNITS:
            minutes = data["delay"] * UNITS[data["delay_unit"]]
            if minutes > MAX_DELAY_MINUTES:
                self.add_error("delay", _("At most 90 days after the event."))
            data["delay_minutes"] = minutes
        medium = data.get("medium")
        # Browsers send a textarea's lines as CRLF; the e-mail splits paragraphs on blank lines.
        body = {code: text.replace("\r\n", "\n") for code, text in self.localized_value("body").items()}
        # A line break in a subject would be a header injection (the send would be refused forever).
        subject = {code: " ".join(text.split()) for code, text in self.localized_value("subject").items()}
        if medium == Medium.SMS:
            # The e-mail's default wording is too long for a text: the short one replaces it.
            _subjects, sms_bodies = texts.defaults(medium=Medium.SMS)
            body = {code: sms_bodies[code] if text == texts.BODY.get(code) else text for code, text in body.items()}
            subject = {}
        if not body:
            self.add_error(f"body_{self.organization.default_language}",
                           _("Write the message in at least one language."))
        elif medium == Medium.EMAIL:
            for code in body:
                if not subject.get(code):
                    self.add_error(f"subject_{code}", _("An e-mail in this language needs its subject."))
        self.texts = {"subject": subject, "body": body}
        return data

    def save(self, commit=True):
        rule = self.instance
        rule.organization = self.organization
        rule.delay_minutes = self.cleaned_data["delay_minutes"]
        rule.reminder_days = self.cleaned_data["reminders"]
        rule.subject, rule.body = self.texts["subject"], self.texts["body"]
        return super().save(commit)


# --- The history of a rule ----------------------------------------------------------------------

@dataclass
class Outcome:
    """What became of one received event under a rule, in words for the history table."""

    state: str  # queued, sending, sent, answered, skipped, failed, none
    label: str
    at: object = None  # the moment that goes with the label (queued until…, sent at…)


def outcome(invitation: Invitation | None) -> Outcome:
    if invitation is None:
        return Outcome("none", _("No invitation: the rule was paused or made after this event"))
    status = invitation.status
    if status == Invitation.Status.QUEUED:
        return Outcome("queued", _("Queued until"), invitation.send_after)
    if status == Invitation.Status.SENDING:
        return Outcome("sending", _("Being sent"))
    if status == Invitation.Status.SKIPPED:
        return Outcome("skipped", _("Skipped: %(reason)s") % {"reason": invitation.get_skip_reason_display()})
    if status == Invitation.Status.FAILED:
        return Outcome("failed", _("Could not be sent"))
    if invitation.completed_at:
        return Outcome("answered", _("Answered"), invitation.completed_at)
    if invitation.bounced_at:
        return Outcome("failed", _("Bounced"), invitation.bounced_at)
    if invitation.opened_at:
        return Outcome("sent", _("Sent, opened"), invitation.opened_at)
    return Outcome("sent", _("Sent"), invitation.sent_at)


def history(rule: TriggerRule) -> QuerySet[TriggerEvent]:
    """The events of the rule's name received by its organization, newest first, each with the
    rule's invitation for it (at most one, by constraint) in `rule_invitations`."""
    mine = Invitation.objects.filter(trigger_rule=rule)
    return (TriggerEvent.objects.filter(organization_id=rule.organization_id, event=rule.event)
            .select_related("customer").order_by("-id")
            .prefetch_related(Prefetch("invitations", queryset=mine, to_attr="rule_invitations")))


def rule_funnel(rule: TriggerRule) -> selectors.Funnel:
    return selectors.funnel(Invitation.objects.filter(trigger_rule=rule))


def rules_with_funnels(organization) -> list[tuple[TriggerRule, selectors.Funnel, str]]:
    """Each rule with its funnel and its delay in words (the funnels in two queries for them all)."""
    rules = list(TriggerRule.objects.filter(organization=organization).select_related("distribution__survey"))
    funnels = selectors.funnels_by(Invitation.objects.filter(trigger_rule__in=rules), "trigger_rule_id")
    return [(rule, funnels.get(rule.pk, selectors.Funnel()), delay_text(rule.delay_minutes)) for rule in rules]


def delay_text(minutes: int) -> str:
    if not minutes:
        return _("at once")
    if minutes % UNITS["days"] == 0:
        days = minutes // UNITS["days"]
        return ngettext("%(n)d day later", "%(n)d days later", days) % {"n": days}
    if minutes % UNITS["hours"] == 0:
        hours = minutes // UNITS["hours"]
        return ngettext("%(n)d hour later", "%(n)d hours later", hours) % {"n": hours}
    return ngettext("%(n)d minute later", "%(n)d minutes later", minutes) % {"n": minutes}


def curl_example(*, site_url: str, organization, event: str) -> str:
    """How another system calls the API for `event`: what the rule page shows the developer."""
    body = {
        "event": event,
        "customer": {"external_id": "C-1001", "email": "customer@example.com", "name": "Anna", "language": "en",
                     "attributes": {"plan": "pro"}},
        "payload": {"order": "A-1001"},
    }
    url = f"{(site_url or settings.SITE_URL).rstrip('/')}/api/v1/triggers/"
    return "\n".join([
        f"curl -X POST {url} \\",
        '  -H "Authorization: Bearer YOUR_API_TOKEN" \\',
        f'  -H "X-Organization: {organization.slug}" \\',
        f'  -H "Idempotency-Key: {event}-A-1001" \\',
        '  -H "Content-Type: application/json" \\',
        f"  -d '{json.dumps(body, ensure_ascii=False)}'",
    ])
