"""The invitation as the customer receives it: an e-mail with the survey's first question inside
(one-click score buttons), a personal signed link, the organization's name as sender, a one-click
unsubscribe (RFC 8058 headers and a link); or a short text message with the link."""

from dataclasses import dataclass
from email.utils import formataddr
from urllib.parse import quote, quote_plus, urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.defaultfilters import linebreaksbr
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from cxplatform import sms
from cxplatform.branding import BrandStyle, style_for
from surveys import links
from surveys.models import SurveyType

from .models import Invitation, SendingProfile

SCORED = {SurveyType.NPS, SurveyType.CSAT, SurveyType.CES}


@dataclass
class Rendered:
    subject: str
    text: str
    html: str
    survey_url: str
    unsubscribe_url: str


def absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def message_id(invitation: Invitation, number: int) -> str:
    """Stable per send (the invitation: 0, its reminders: 1, 2…), so a send repeated after a
    worker died mid-way carries the same id and a provider or mail client can tell."""
    host = urlsplit(settings.SITE_URL).hostname or "localhost"
    return f"<invitation-{invitation.pk}-{number}@{host}>"


# What differs from one person to the next, rendered as markers and substituted afterwards, so a
# batch renders its templates once per (source, link, language, kind), not once per person: the
# templates were most of a message's CPU. The markers are plain ASCII that neither autoescaping
# nor URL quoting changes.
_NAME = "XXCXNAMEXX"
_SIGNED = "XXCXSIGNEDXX"
_UNSUBSCRIBE = "XXCXUNSUBSCRIBEXX"
_URL_SAFE = "!$&'()*+,;=/~:@"  # what Django's reverse() leaves unquoted in a path


@dataclass
class _Skeleton:
    subject: str
    text: str
    html: str
    survey_url: str
    unsubscribe_url: str


class Renderer:
    """Renders the messages of one batch; `render()` below is the same for one message."""

    def __init__(self):
        self._skeletons: dict[tuple, _Skeleton] = {}
        self._brands: dict[int, BrandStyle] = {}  # read once per organization of the batch

    def render(self, *, source, distribution, customer, organization, language: str,
               invitation: Invitation | None, reminder: bool = False) -> Rendered:
        """The words of `source` (a campaign or a trigger rule) for one person in `language`;
        `invitation` None renders a test send (no personal link, no unsubscribe)."""
        key = (type(source), source.pk, distribution.pk, language, reminder, invitation is None)
        skeleton = self._skeletons.get(key)
        if skeleton is None:
            brand = self._brands.get(organization.pk)
            if brand is None:
                brand = self._brands[organization.pk] = style_for(organization)
            skeleton = self._skeletons[key] = _skeleton(source=source, distribution=distribution,
                                                        organization=organization, language=language,
                                                        reminder=reminder, test=invitation is None, brand=brand)
        # A name is one line (an imported one may carry a line break; the Subject header refuses one).
        name = " ".join((customer.name or "").split())
        signed = quote_plus(links.sign(distribution, customer if invitation else None, language=language,
                                       invitation=invitation.pk if invitation else None))
        unsubscribe = quote(_token(invitation), safe=_URL_SAFE) if invitation else ""

        def personal(template: str, shown_name: str) -> str:
            return (template.replace(_SIGNED, signed).replace(_UNSUBSCRIBE, unsubscribe)
                    .replace(_NAME, shown_name))

        html_name = linebreaksbr(name, autoescape=True)
        return Rendered(personal(skeleton.subject, name), personal(skeleton.text, name),
                        personal(skeleton.html, html_name), personal(skeleton.survey_url, name),
                        personal(skeleton.unsubscribe_url, name))


def render(**kwargs) -> Rendered:
    return Renderer().render(**kwargs)


def _fill(template: str, *, organization) -> str:
    # Only these two names: a manager's stray brace must never break a send.
    return (template or "").replace("{name}", _NAME).replace("{organization}", organization.name)


def _skeleton(*, source, distribution, organization, language: str, reminder: bool, test: bool,
              brand: BrandStyle) -> _Skeleton:
    survey = distribution.survey
    survey_url = absolute(links.survey_url(distribution, _SIGNED, language))
    unsubscribe_url = "" if test else absolute(reverse("invite:unsubscribe", args=[_UNSUBSCRIBE]))
    scores = []
    if survey.survey_type in SCORED:
        low, high = survey.scale
        scores = [(n, absolute(url)) for n, url in links.one_click_urls(distribution, range(low, high + 1), _SIGNED)]
    with translation.override(language):
        subject = " ".join(_fill((source.subject or {}).get(language, ""), organization=organization).split())
        body = _fill((source.body or {}).get(language, ""), organization=organization)
        context = {
            "subject": subject, "body": body, "paragraphs": [p for p in body.split("\n\n") if p.strip()],
            "organization": organization, "question": (survey.score_question or {}).get(language, ""),
            "scores": scores, "low": scores[0][0] if scores else None, "high": scores[-1][0] if scores else None,
            "survey_url": survey_url, "unsubscribe_url": unsubscribe_url, "reminder": reminder,
            "test": test, "language": language, "brand": brand,
            # Mail clients load images from the site, never relative to the message.
            "logo_url": absolute(brand.logo_url) if brand.logo_url else "",
        }
        if source.medium == "sms":
            text, html = render_to_string("invitations/sms.txt", context).strip(), ""
        else:
            text = render_to_string("invitations/email.txt", context)
            html = render_to_string("invitations/email.html", context)
    return _Skeleton(subject, text, html, survey_url, unsubscribe_url)


def _token(invitation):
    from .services import unsubscribe_token

    return unsubscribe_token(invitation)


def profile_of(organization) -> SendingProfile:
    """The organization's sending profile (unsaved defaults when it has none): read once per batch."""
    return SendingProfile.objects.filter(organization=organization).first() or SendingProfile(
        organization=organization)


def sender(organization, profile: SendingProfile | None = None) -> str:
    profile = profile or profile_of(organization)
    return formataddr((profile.from_name or organization.name, settings.DEFAULT_FROM_EMAIL))


def email(rendered: Rendered, *, to: str, organization, invitation: Invitation | None, number: int = 0,
          profile: SendingProfile | None = None) -> EmailMultiAlternatives:
    headers = {}
    if invitation is not None:
        headers = {
            "Message-ID": message_id(invitation, number),
            "List-Unsubscribe": f"<{rendered.unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        }
    profile = profile or profile_of(organization)
    message = EmailMultiAlternatives(rendered.subject, rendered.text, sender(organization, profile), [to],
                                     headers=headers, reply_to=[profile.reply_to] if profile.reply_to else None)
    message.attach_alternative(rendered.html, "text/html")
    return message


def text_message(rendered: Rendered, *, to: str, invitation: Invitation | None, number: int = 0) -> sms.TextMessage:
    reference = f"invitation-{invitation.pk}-{number}" if invitation else "test"
    return sms.TextMessage(to=to, text=rendered.text, reference=reference)
