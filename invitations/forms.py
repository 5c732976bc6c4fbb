"""The manager's forms for invitations: an audience's filter, an uploaded list, a campaign with
its message per language and its timing, the suppression list and the sending settings. Every
choice is the organization's own (links, audiences, touchpoints, segments)."""

import zoneinfo
from datetime import datetime

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cxplatform.models import Customer
from cxplatform.versioning import version_field
from journeys.selectors import touchpoints
from surveys.models import Distribution, Survey

from . import audiences, texts
from .models import Audience, Campaign, Medium, SendingProfile

LANGS = settings.LANGUAGES
MAX_SEGMENTS = 200


def _segments(organization) -> list[str]:
    key = f"attributes__{organization.segment_attribute}"
    values = (Customer.objects.for_org(organization).exclude(**{f"{key}__isnull": True})
              .values_list(key, flat=True).distinct().order_by(key)[:MAX_SEGMENTS])
    return [str(v) for v in values if v not in (None, "")]


def parse_pairs(text: str) -> dict:
    """"name=value" a line → {name: value}; ValidationError on a line without "="."""
    pairs = {}
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        name, sep, value = line.partition("=")
        if not sep or not name.strip():
            raise forms.ValidationError(_("Write each attribute as name=value, one a line."))
        pairs[name.strip()[:50]] = value.strip()[:200]
    return pairs


class AudienceForm(forms.Form):
    """A saved filter over the organization's customers; `criteria()` is what is stored."""

    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    segments = forms.MultipleChoiceField(label=gettext_lazy("Segments"), required=False,
                                         widget=forms.SelectMultiple)
    languages = forms.MultipleChoiceField(label=gettext_lazy("Languages"), choices=LANGS, required=False,
                                          widget=forms.CheckboxSelectMultiple)
    attributes = forms.CharField(
        label=gettext_lazy("Attributes"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("One a line: name=value (e.g. plan=premium)."))
    answered_within_days = forms.IntegerField(label=gettext_lazy("Answered a survey within (days)"),
                                              required=False, min_value=1, max_value=audiences.DAY_LIMIT)
    not_answered_within_days = forms.IntegerField(label=gettext_lazy("Not answered a survey within (days)"),
                                                  required=False, min_value=1, max_value=audiences.DAY_LIMIT)
    not_contacted_within_days = forms.IntegerField(label=gettext_lazy("Not invited within (days)"),
                                                   required=False, min_value=1, max_value=audiences.DAY_LIMIT)
    touchpoints = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Answered at these touchpoints"), queryset=None, required=False,
        widget=forms.SelectMultiple)
    version = version_field()

    def __init__(self, *args, organization, audience: Audience | None = None, **kwargs):
        criteria = (audience.criteria or {}) if audience else {}
        initial = kwargs.pop("initial", None) or {}
        if audience is not None:
            initial = {
                "name": audience.name, "segments": criteria.get("segments", []),
                "languages": criteria.get("languages", []),
                "attributes": "\n".join(f"{k}={v}" for k, v in (criteria.get("attributes") or {}).items()),
                "answered_within_days": criteria.get("answered_within_days"),
                "not_answered_within_days": criteria.get("not_answered_within_days"),
                "not_contacted_within_days": criteria.get("not_contacted_within_days"),
                "touchpoints": criteria.get("touchpoints", []), "version": audience.version, **initial,
            }
        super().__init__(*args, initial=initial, **kwargs)
        self.organization = organization
        segments = _segments(organization)
        # A segment saved earlier stays choosable even when no customer has it now.
        segments += [s for s in criteria.get("segments", []) if s not in segments]
        self.fields["segments"].choices = [(s, s) for s in segments]
        self.fields["segments"].help_text = (
            _("Pick one or more (Ctrl or ⌘ and click).") if segments else
            _("No customer has a segment yet: it is their “%(attribute)s” attribute.")
            % {"attribute": organization.segment_attribute})
        self.fields["touchpoints"].queryset = touchpoints(organization)
        self.fields["touchpoints"].label_from_instance = str
        self.fields["touchpoints"].help_text = _("Customers who answered a survey at any of them.")
        if audience is not None:
            self.fields["version"].required = True

    def clean_attributes(self):
        return parse_pairs(self.cleaned_data.get("attributes", ""))

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        raw = {key: cleaned.get(key) for key in ("segments", "languages", "attributes", "answered_within_days",
                                                  "not_answered_within_days", "not_contacted_within_days")}
        raw["touchpoints"] = [t.pk for t in cleaned.get("touchpoints") or []]
        try:
            cleaned["criteria"] = audiences.clean_criteria(raw, organization=self.organization)
        except audiences.CriteriaError as exc:
            raise forms.ValidationError(str(exc)) from None
        return cleaned


class AudienceUploadForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    file = forms.FileField(label=gettext_lazy("File"), widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}))


def _local(moment: datetime | None, zone: zoneinfo.ZoneInfo) -> datetime | None:
    return moment.astimezone(zone).replace(tzinfo=None) if moment else None


class CampaignForm(forms.Form):
    """A campaign: link, audience, the message per language, reminders and when it goes out.
    The date and time are read in the organization's time zone."""

    WHEN_NOW, WHEN_AT = "now", "at"

    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    distribution = forms.ModelChoiceField(label=gettext_lazy("Survey link"), queryset=None)
    audience = forms.ModelChoiceField(label=gettext_lazy("Audience"), queryset=None)
    medium = forms.ChoiceField(label=gettext_lazy("Sent by"), choices=Medium.choices, initial=Medium.EMAIL)
    reminder_days = forms.CharField(
        label=gettext_lazy("Reminders after (days)"), required=False, max_length=50,
        help_text=gettext_lazy("To those who have not answered, e.g. 3, 7. Empty: no reminders."))
    when = forms.ChoiceField(label=gettext_lazy("When"), widget=forms.RadioSelect, initial=WHEN_NOW, choices=[
        (WHEN_NOW, gettext_lazy("As soon as I press “Send”")),
        (WHEN_AT, gettext_lazy("At a date and time")),
    ])
    send_at = forms.DateTimeField(label=gettext_lazy("Date and time"), required=False,
                                  widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
                                  input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"])
    recurrence = forms.ChoiceField(label=gettext_lazy("Repeat"), choices=Campaign.Recurrence.choices,
                                   initial=Campaign.Recurrence.ONCE)
    sample_size = forms.IntegerField(label=gettext_lazy("People per run"), required=False, min_value=0,
                                     max_value=10_000_000, initial=0,
                                     help_text=gettext_lazy("A repeating campaign asks a random sample of the "
                                                            "audience each time; 0 asks everyone."))
    version = version_field()

    def __init__(self, *args, organization, campaign: Campaign | None = None, **kwargs):
        self.organization, self.campaign = organization, campaign
        self.zone = zoneinfo.ZoneInfo(organization.time_zone or "UTC")
        initial = kwargs.pop("initial", None) or {}
        if campaign is not None and campaign.pk:
            subject, body = campaign.subject or {}, campaign.body or {}
            initial = {
                "name": campaign.name, "distribution": campaign.distribution_id, "audience": campaign.audience_id,
                "medium": campaign.medium, "reminder_days": ", ".join(str(d) for d in campaign.reminder_days or []),
                "when": self.WHEN_AT if campaign.send_at else self.WHEN_NOW,
                "send_at": _local(campaign.send_at, self.zone), "recurrence": campaign.recurrence,
                "sample_size": campaign.sample_size, "version": campaign.version, **initial,
            }
        else:
            subject, body = texts.defaults(medium="email")
        for code, _name in LANGS:
            initial.setdefault(f"subject_{code}", subject.get(code, ""))
            initial.setdefault(f"body_{code}", body.get(code, ""))
        super().__init__(*args, initial=initial, **kwargs)
        email_body, sms_body = texts.defaults(medium="email")[1], texts.defaults(medium="sms")[1]
        for code, lang_name in LANGS:
            self.fields[f"subject_{code}"] = forms.CharField(
                label=_("Subject (%(language)s)") % {"language": lang_name}, required=False, max_length=200)
            # The default wording of each medium, so the page can swap an untouched text (campaign.js).
            self.fields[f"body_{code}"] = forms.CharField(
                label=_("Message (%(language)s)") % {"language": lang_name}, required=False, max_length=5000,
                widget=forms.Textarea(attrs={"rows": 6, "data-default-email": email_body.get(code, ""),
                                             "data-default-sms": sms_body.get(code, "")}))
        self.fields["distribution"].queryset = (
            Distribution.objects.filter(organization=organization, active=True, survey__status=Survey.Status.ACTIVE)
            .select_related("survey").order_by("survey__name", "name"))
        self.fields["distribution"].label_from_instance = lambda d: f"{d.survey.name} — {d.name}"
        self.fields["audience"].queryset = Audience.objects.filter(organization=organization).order_by("name")
        self.fields["send_at"].help_text = _("In the organization's time zone, %(zone)s.") % {
            "zone": organization.time_zone or "UTC"}
        if campaign is not None and campaign.pk:
            self.fields["version"].required = True
            # The link saved earlier stays choosable while the campaign is a draft, even if paused.
            self.fields["distribution"].queryset = (
                Distribution.objects.filter(organization=organization).filter(
                    pk__in=list(self.fields["distribution"].queryset.values_list("pk", flat=True))
                    + [campaign.distribution_id]).select_related("survey").order_by("survey__name", "name"))

    def language_fields(self):
        """(code, name, subject field, body field) per language, for the tabs."""
        return [(code, name, self[f"subject_{code}"], self[f"body_{code}"]) for code, name in LANGS]

    def clean_reminder_days(self):
        text = self.cleaned_data.get("reminder_days", "")
        days = []
        for part in text.replace(";", ",").split(","):
            part = part.strip()
            if not part:
                continue
            if not (part.isascii() and part.isdigit()) or not 1 <= int(part) <= 365:  # not "²" nor "٣"
                raise forms.ValidationError(_("Write the days as whole numbers from 1 to 365, e.g. 3, 7."))
            days.append(int(part))
        if len(days) > 5:
            raise forms.ValidationError(_("At most five reminders."))
        return sorted(set(days))

    def clean(self):
        cleaned = super().clean()
        when, send_at = cleaned.get("when"), cleaned.get("send_at")
        if when == self.WHEN_NOW:
            cleaned["recurrence"] = Campaign.Recurrence.ONCE  # repeating needs its first date and time
        recurrence = cleaned.get("recurrence")
        if when == self.WHEN_AT or recurrence not in (None, Campaign.Recurrence.ONCE):
            if send_at is None:
                self.add_error("send_at", _("Choose the date and time."))
            else:
                moment = timezone.make_aware(timezone.make_naive(send_at) if timezone.is_aware(send_at) else send_at,
                                             self.zone)
                if moment <= timezone.now() and (self.campaign is None or moment != self.campaign.send_at):
                    self.add_error("send_at", _("Choose a moment in the future."))
                cleaned["send_at_utc"] = moment
        else:
            cleaned["send_at_utc"] = None
        if cleaned.get("recurrence") == Campaign.Recurrence.ONCE:
            cleaned["sample_size"] = 0
        cleaned["sample_size"] = cleaned.get("sample_size") or 0
        subject = {code: cleaned.get(f"subject_{code}", "").strip() for code, _n in LANGS}
        body = {code: cleaned.get(f"body_{code}", "").strip() for code, _n in LANGS}
        cleaned["subject_texts"] = {k: v for k, v in subject.items() if v}
        cleaned["body_texts"] = {k: v for k, v in body.items() if v}
        if not cleaned["body_texts"]:
            raise forms.ValidationError(_("Write the message in at least one language."))
        if cleaned.get("medium") == Medium.EMAIL:
            missing = [name for code, name in LANGS if body[code] and not subject[code]]
            if missing:
                raise forms.ValidationError(_("Write the subject in every language of the message: %(languages)s.")
                                            % {"languages": ", ".join(str(m) for m in missing)})
        return cleaned

    def apply(self, campaign: Campaign) -> Campaign:
        """Set the cleaned values on `campaign` (not saved)."""
        data = self.cleaned_data
        campaign.name = data["name"]
        campaign.distribution = data["distribution"]
        campaign.audience = data["audience"]
        campaign.medium = data["medium"]
        campaign.subject = data["subject_texts"] if data["medium"] == Medium.EMAIL else {}
        campaign.body = data["body_texts"]
        campaign.reminder_days = data["reminder_days"]
        campaign.send_at = data["send_at_utc"]
        campaign.recurrence = data["recurrence"]
        campaign.sample_size = data["sample_size"]
        return campaign


class SuppressionForm(forms.Form):
    address = forms.CharField(label=gettext_lazy("E-mail or phone"), max_length=254)

    def clean_address(self):
        from django.core.validators import validate_email

        from .services import normalise_address

        raw = self.cleaned_data["address"].strip()
        if "@" in raw:
            try:
                validate_email(raw)
            except forms.ValidationError:
                raise forms.ValidationError(_("“%(value)s” is not a valid e-mail address.")
                                            % {"value": raw[:60]}) from None
        address = normalise_address(raw)
        if "@" not in address and len(address.lstrip("+")) < 5:
            raise forms.ValidationError(_("Write an e-mail address or a phone number."))
        return address


class SendingSettingsForm(forms.ModelForm):
    time_zone = forms.CharField(label=gettext_lazy("Time zone"), max_length=60,
                                help_text=gettext_lazy("As in the tz database, e.g. Europe/Riga. Scheduled "
                                                       "campaigns are sent at this zone's time."))

    class Meta:
        model = SendingProfile
        fields = ["messages_per_minute", "from_name", "reply_to"]

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.fields["time_zone"].initial = organization.time_zone
        self.fields["messages_per_minute"].widget.attrs.update({"min": 1, "max": 100_000})
        self.fields["messages_per_minute"].help_text = _(
            "Your mail provider's limit: a larger campaign is spread over the minutes it needs.")

    def clean_messages_per_minute(self):
        value = self.cleaned_data["messages_per_minute"]
        if not 1 <= value <= 100_000:
            raise forms.ValidationError(_("Choose a number from 1 to 100,000."))
        return value

    def clean_time_zone(self):
        zone = self.cleaned_data["time_zone"].strip()
        if zone not in zoneinfo.available_timezones():
            raise forms.ValidationError(_("“%(value)s” is not a time zone: write one such as Europe/Riga.")
                                        % {"value": zone[:60]})
        return zone

