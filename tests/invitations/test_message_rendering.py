"""A batch renders its templates once and substitutes each person's parts: what the customer
receives is exactly what rendering the templates for that person gives."""

from urllib.parse import urlencode

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from invitations import messages, services
from invitations.models import Invitation
from surveys import links
from tests import factories
from tests.invitations.test_sending import list_audience, make_campaign

pytestmark = pytest.mark.django_db

NAMES = ["Anna", "<b>Tom & \"Jerry\"</b> O'Neil", "Jānis\nBērziņš", "", "XX{weird}"]


def reference(invitation, *, reminder: bool):
    """The message rendered straight from the templates with this person's values (the oracle)."""
    campaign, distribution, customer = invitation.campaign, invitation.distribution, invitation.customer
    language, org = invitation.language, invitation.organization
    name = " ".join(customer.name.split())
    signed = links.sign(distribution, customer, language=language, invitation=invitation.pk)
    survey_url = messages.absolute(links.survey_url(distribution, signed, language))
    unsubscribe = messages.absolute(reverse("invite:unsubscribe", args=[services.unsubscribe_token(invitation)]))
    low, high = distribution.survey.scale
    scores = [(n, messages.absolute(reverse("respond:one_click", kwargs={"public_id": distribution.public_id,
                                                                      "score": n}) + "?" + urlencode({"c": signed})))
              for n in range(low, high + 1)]

    def fill(text):
        return text.replace("{name}", name).replace("{organization}", org.name)

    with translation.override(language):
        body = fill(campaign.body[language])
        context = {"subject": " ".join(fill(campaign.subject[language]).split()), "body": body,
                   "paragraphs": [p for p in body.split("\n\n") if p.strip()], "organization": org,
                   "question": distribution.survey.score_question.get(language, ""), "scores": scores,
                   "low": low, "high": high, "survey_url": survey_url, "unsubscribe_url": unsubscribe,
                   "reminder": reminder, "test": False, "language": language}
        return (context["subject"], render_to_string("invitations/email.txt", context),
                render_to_string("invitations/email.html", context), survey_url, unsubscribe)


@pytest.mark.parametrize("reminder", [False, True])
def test_every_person_gets_exactly_their_own_message(org_a, reminder):
    link = factories.distribution(org_a)
    people = [factories.customer(org_a) for _ in NAMES]
    for person, name, language in zip(people, NAMES, ["en", "ru", "en", "ru", "en"], strict=True):
        person.name, person.language = name, language
        person.save()
    campaign = make_campaign(org_a, link, list_audience(org_a, people),
                             subject={"en": "How did we do, {name}?", "ru": "Как дела, {name}?"},
                             body={"en": "Hello {name},\n\nTell {organization}.", "ru": "Привет, {name}!"})
    services.schedule(campaign=campaign, send_at=None)
    services.start_run(campaign_id=campaign.pk)
    renderer = messages.Renderer()
    invitations = Invitation.objects.filter(campaign=campaign).select_related(
        "campaign", "distribution__survey", "customer", "organization").order_by("pk")
    assert invitations.count() == len(NAMES)
    for invitation in invitations:
        rendered = renderer.render(source=campaign, distribution=link, customer=invitation.customer,
                                   organization=org_a, language=invitation.language, invitation=invitation,
                                   reminder=reminder)
        assert (rendered.subject, rendered.text, rendered.html, rendered.survey_url,
                rendered.unsubscribe_url) == reference(invitation, reminder=reminder)
    # Rendered once per language and kind, not once per person.
    assert len(renderer._skeletons) == 2
