"""How the inbox is set up, edited on its settings page: teams, routing rules, SLA policies,
canned replies and webhook endpoints — one ModelForm each, scoped to the organization, and the
sections of the page that list them. The rules a setting must keep (a business day that ends
after it starts, a real time zone, one policy per priority) live in `check_*` functions that the
API's serializers use too."""

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from cxplatform import audit
from cxplatform.forms import NamesPerLanguageForm
from cxplatform.models import Capability
from cxplatform.tenancy import scoped
from cxplatform.versioning import VersionedModelForm

from .forms import agents_of
from .models import CannedReply, CloseLoopRule, RootCause, RoutingRule, SlaPolicy, Tag, Team, WebhookEndpoint


def check_time_zone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError({"time_zone": _("“%(zone)s” is not a time zone (e.g. Europe/Riga).") % {
            "zone": value}}) from None


def check_sla(organization, *, priority, day_start, day_end, instance=None) -> None:
    # A day that ends before it starts would never let the SLA clock finish (sla.add_business_hours).
    if day_start and day_end and day_start >= day_end:
        raise ValidationError({"day_end": _("The business day must end after it starts.")})
    clash = SlaPolicy.objects.filter(organization=organization, priority=priority)
    if instance is not None and instance.pk:
        clash = clash.exclude(pk=instance.pk)
    if clash.exists():
        raise ValidationError({"priority": _("This priority already has an SLA policy.")})


def check_rule(*, rating_min, rating_max, assign, team) -> None:
    if rating_min is not None and rating_max is not None and rating_min > rating_max:
        raise ValidationError({"rating_max": _("“Rating up to” is below “rating from”.")})
    if assign and not team:
        raise ValidationError({"assign": _("Choose the team whose members get the items.")})


class _OrgForm(VersionedModelForm):
    """A setting of one organization: its choices come from that organization only, and its
    uniqueness (a name per organization) is checked like any other field."""

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.instance.organization = organization
        for field in self.fields.values():
            queryset = getattr(field, "queryset", None)
            if queryset is not None and hasattr(queryset.model, "organization"):
                field.queryset = scoped(queryset.model, organization)

    def _get_validation_exclusions(self):
        exclusions = super()._get_validation_exclusions()
        exclusions.discard("organization")  # so the per-organization unique constraints are checked
        return exclusions


class TeamForm(_OrgForm):
    class Meta:
        model = Team
        fields = ["name", "lead", "members", "touchpoints"]
        widgets = {"members": forms.CheckboxSelectMultiple, "touchpoints": forms.CheckboxSelectMultiple}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lead"].queryset = self.fields["members"].queryset = agents_of(self.organization)
        self.fields["lead"].label_from_instance = self.fields["members"].label_from_instance = _shown
        self.fields["touchpoints"].queryset = self.fields["touchpoints"].queryset.filter(archived=False)


class RoutingRuleForm(_OrgForm):
    class Meta:
        model = RoutingRule
        fields = ["name", "position", "active", "source", "channel", "touchpoint", "rating_min", "rating_max",
                  "sentiment", "keywords", "segment", "add_tags", "set_priority", "team", "assign", "stop"]
        widgets = {"add_tags": forms.CheckboxSelectMultiple}

    def clean(self):
        d = super().clean()
        check_rule(rating_min=d.get("rating_min"), rating_max=d.get("rating_max"), assign=d.get("assign"),
                   team=d.get("team"))
        return d


class SlaPolicyForm(_OrgForm):
    class Meta:
        model = SlaPolicy
        fields = ["priority", "first_response_hours", "resolution_hours", "business_hours", "day_start", "day_end",
                  "time_zone", "warn_before_minutes"]
        widgets = {"day_start": forms.TimeInput(attrs={"type": "time"}),
                   "day_end": forms.TimeInput(attrs={"type": "time"})}

    def clean(self):
        d = super().clean()
        if d.get("time_zone"):
            check_time_zone(d["time_zone"])
        if d.get("priority") is not None:
            check_sla(self.organization, priority=d["priority"], day_start=d.get("day_start"),
                      day_end=d.get("day_end"), instance=self.instance)
        return d


class TagForm(NamesPerLanguageForm):
    """A tag and its name in each language. Tags carry no version (two managers renaming one tag
    at once is rare and harmless), so this is a plain scoped ModelForm."""

    class Meta:
        model = Tag
        fields = ["name"]

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = self.instance.organization = organization

    def _get_validation_exclusions(self):
        exclusions = super()._get_validation_exclusions()
        exclusions.discard("organization")  # so "one name per organization" is checked as a field error
        return exclusions


class RootCauseForm(NamesPerLanguageForm, _OrgForm):
    class Meta:
        model = RootCause
        fields = ["name", "parent", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A tree two levels deep (delivery → late): a parent is a top-level cause, never itself.
        parents = self.fields["parent"].queryset.filter(parent__isnull=True)
        self.fields["parent"].queryset = parents.exclude(pk=self.instance.pk) if self.instance.pk else parents


class CloseLoopRuleForm(_OrgForm):
    review_url = forms.URLField(label=_("ask promoters for a review at"), required=False, assume_scheme="https")

    class Meta:
        model = CloseLoopRule
        fields = ["name", "position", "active", "survey", "survey_type", "touchpoint", "channel", "segment", "band",
                  "keywords", "negative_comment", "action", "tags", "priority", "team", "assign",
                  "contact_within_hours", "close_within_hours", "script_hint", "follow_up", "review_url"]
        widgets = {"tags": forms.CheckboxSelectMultiple, "script_hint": forms.Textarea(attrs={"rows": 3})}

    def clean(self):
        d = super().clean()
        check_rule(rating_min=None, rating_max=None, assign=d.get("assign"), team=d.get("team"))
        if d.get("contact_within_hours") is not None and d.get("close_within_hours") is not None \
                and d["close_within_hours"] < d["contact_within_hours"]:
            raise ValidationError({"close_within_hours": _("The loop cannot close before the customer is called.")})
        return d


class CannedReplyForm(_OrgForm):
    class Meta:
        model = CannedReply
        fields = ["title", "language", "text"]
        widgets = {"text": forms.Textarea(attrs={"rows": 6})}
        help_texts = {"text": _("{customer}, {agent} and {item} are filled in when an agent uses it.")}


class WebhookEndpointForm(_OrgForm):
    signed = forms.BooleanField(label=_("Require a signature (HMAC-SHA256 of the body)"), required=False,
                                initial=True)

    class Meta:
        model = WebhookEndpoint
        fields = ["name", "source", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            del self.fields["signed"]  # the secret is made once; a new endpoint rotates it

    def save(self, commit=True):
        from . import webhooks

        if self.instance.pk:
            return super().save(commit)
        endpoint = webhooks.create_endpoint(self.organization, self.cleaned_data["name"], self.cleaned_data["source"],
                                            signed=self.cleaned_data.get("signed", False))
        if not self.cleaned_data["active"]:
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(active=False)
        return endpoint


def save_setting(*, request: HttpRequest, form: forms.ModelForm):
    """Save a settings form and record what it changed (field: old → new), in one transaction:
    the audit entry exists exactly when the change does."""
    instance = form.instance
    with transaction.atomic():
        before = audit.snapshot(type(instance)._default_manager.get(pk=instance.pk)) if instance.pk else None
        saved = form.save()
        audit.record_setting(request=request, organization=form.organization, instance=saved,
                             change="changed" if before is not None else "created", before=before)
    return saved


def delete_setting(*, request: HttpRequest, instance) -> None:
    """Delete a setting and record it; ProtectedError (still in use) leaves both undone."""
    with transaction.atomic():
        audit.record_setting(request=request, organization=instance.organization, instance=instance,
                             change="deleted")
        instance.delete()


@dataclass(frozen=True)
class Section:
    kind: str  # also the URL's path segment
    model: type
    form: type
    title: str
    capability: str
    columns: tuple[str, ...]

    def headers(self) -> list[str]:
        return [str(self.model._meta.get_field(name).verbose_name) if name != "received" else str(_("received"))
                for name in self.columns]

    def rows(self, organization) -> list[dict]:
        """Each setting with the cells of its columns, as text, and its links."""
        qs = scoped(self.model, organization)
        relations = [f.name for f in self.model._meta.get_fields() if f.many_to_many and not f.auto_created]
        if relations:
            qs = qs.prefetch_related(*relations)
        return [{"object": obj, "cells": [_cell(obj, name) for name in self.columns],
                 "edit_url": reverse(f"feedback:settings_{self.kind}_edit", args=[obj.pk]),
                 "delete_url": reverse(f"feedback:settings_{self.kind}_delete", args=[obj.pk])} for obj in qs]

    @property
    def new_url(self) -> str:
        return reverse(f"feedback:settings_{self.kind}_new")


def _shown(value) -> str:
    """A value as the settings show it: a person by their name (their login only when nameless)."""
    if hasattr(value, "get_full_name"):
        return value.get_full_name() or value.get_username()
    return str(value)


def _cell(obj, name: str) -> str:
    field = obj._meta.get_field(name)
    if field.many_to_many:
        return ", ".join(_shown(o) for o in getattr(obj, name).all()) or "—"
    if getattr(field, "choices", None):
        return str(getattr(obj, f"get_{name}_display")()) or "—"
    if name == "name" and hasattr(obj, "shown_name"):
        return obj.shown_name  # the name in the reader's language
    value = getattr(obj, name)
    if isinstance(value, bool):
        return "✓" if value else "—"
    return "—" if value in (None, "") else _shown(value)


SECTIONS = [
    Section("teams", Team, TeamForm, _("Teams"), Capability.ADMINISTER, ("name", "lead", "members", "touchpoints")),
    Section("rules", RoutingRule, RoutingRuleForm, _("Routing rules"), Capability.ADMINISTER,
            ("name", "position", "active", "team", "assign")),
    Section("sla", SlaPolicy, SlaPolicyForm, _("SLA policies"), Capability.ADMINISTER,
            ("priority", "first_response_hours", "resolution_hours", "business_hours")),
    Section("loop", CloseLoopRule, CloseLoopRuleForm, _("Close-loop rules"), Capability.ADMINISTER,
            ("name", "position", "active", "band", "action", "team", "contact_within_hours")),
    Section("tags", Tag, TagForm, _("Tags"), Capability.DESIGN, ("name",)),
    Section("causes", RootCause, RootCauseForm, _("Root causes"), Capability.DESIGN, ("name", "parent", "active")),
    Section("canned", CannedReply, CannedReplyForm, _("Canned replies"), Capability.DESIGN, ("title", "language")),
    Section("webhooks", WebhookEndpoint, WebhookEndpointForm, _("Webhooks"), Capability.ADMINISTER,
            ("name", "source", "active", "received")),
]
BY_KIND = {s.kind: s for s in SECTIONS}
