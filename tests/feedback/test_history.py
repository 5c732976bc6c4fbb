"""What history may trigger (docs/adr/0012): nothing but figures. Imported answers, and answers given
longer ago than a rule's call-back time, open no case, send no e-mail and put nothing in the inbox;
they count in NPS, CSAT, CES and CSI like any answer. A re-import stays idempotent."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from cxplatform.models import Customer, OutboxEvent, Role
from feedback import loop
from feedback.models import CloseLoopRule, FeedbackItem, PromoterThanks
from metrics.selectors import Scope, figures
from surveys.models import Response
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def rules(org_a):
    unhappy = CloseLoopRule.objects.create(organization=org_a, name="Call back the unhappy", band="unhappy",
                                           contact_within_hours=48, close_within_hours=120)
    thanks = CloseLoopRule.objects.create(organization=org_a, name="Thank promoters", band="promoter",
                                          action="thank", position=1)
    return unhappy, thanks


@pytest.fixture
def survey(org_a):
    return factories.survey(org_a, "nps")


def _import(org, survey, path):
    call_command("import_responses", "--org", org.slug, "--survey", str(survey.pk), str(path),
                 stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_importing_past_answers_opens_no_case_and_sends_no_mail(org_a, survey, rules, settings, tmp_path,
                                                                  django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = tmp_path / "media"
    now = timezone.now()
    rows = ["submitted_at,score,comment,email"]
    # Ten unhappy customers with e-mail addresses, from last week to an hour ago, and two fans.
    for n in range(10):
        moment = (now - timedelta(days=7 - n * 0.7, hours=1)).strftime("%Y-%m-%d %H:%M")
        rows.append(f"{moment},{n % 7},Broken again {n},unhappy{n}@example.com")
    for n in range(2):
        rows.append(f"{(now - timedelta(hours=2)).strftime('%Y-%m-%d %H:%M')},10,Love it,fan{n}@example.com")
    path = tmp_path / "past.csv"
    path.write_text("\n".join(rows) + "\n")

    with django_capture_on_commit_callbacks(execute=True):
        _import(org_a, survey, path)
    imported = Response.objects.filter(organization=org_a, source=Response.Source.IMPORT)
    assert imported.count() == 12 and Customer.objects.filter(organization=org_a).count() == 12
    assert OutboxEvent.objects.filter(name="response.recorded").count() == 12  # the figures are told
    # History feeds figures only: no case, no thank-you, no e-mail, nothing in the inbox.
    assert not FeedbackItem.objects.filter(organization=org_a).exists()
    assert not PromoterThanks.objects.exists() and mail.outbox == []
    nps = figures(Scope(org_a, (now - timedelta(days=8)).date(), (now + timedelta(days=1)).date()))["nps"]
    assert nps.n == 12 and nps.counts["detractors"] == 10 and nps.counts["promoters"] == 2
    # Applying a rule to past days on purpose does not take imported answers either.
    assert loop.apply_rule(rules[0], days=30) == 0 and loop.apply_rule(rules[1], days=30) == 0
    assert not FeedbackItem.objects.exists() and mail.outbox == []

    with django_capture_on_commit_callbacks(execute=True):  # the same file again: nothing more at all
        _import(org_a, survey, path)
    assert imported.count() == 12 and OutboxEvent.objects.filter(name="response.recorded").count() == 12
    assert not FeedbackItem.objects.exists() and mail.outbox == []


def test_an_answer_older_than_the_rules_call_back_time_feeds_figures_only(
        org_a, survey, rules, make_member, client_for, django_capture_on_commit_callbacks):
    """A call-centre system sends answers late through the API: one from three days ago would be a
    case overdue the moment it opened, and its thank-you would come out of the blue."""
    link = factories.distribution(org_a, survey)
    api = client_for(make_member(org_a, Role.AGENT))

    def send(score, hours_ago, email):
        at = (timezone.now() - timedelta(hours=hours_ago)).isoformat()
        with django_capture_on_commit_callbacks(execute=True):
            answer = api.post("/api/v1/responses/", {
                "distribution": link.public_id, "answers": {"score": score, "comment": "Called about my order"},
                "customer_email": email, "submitted_at": at}, content_type="application/json")
        assert answer.status_code == 201, answer.content
        return Response.objects.get(pk=answer.json()["id"])

    old_detractor, old_promoter = send(2, 72, "old@example.com"), send(10, 72, "oldfan@example.com")
    fresh_detractor, fresh_promoter = send(2, 3, "fresh@example.com"), send(10, 3, "fan@example.com")
    cases = FeedbackItem.objects.filter(organization=org_a, kind=FeedbackItem.Kind.CASE)
    assert list(cases.values_list("response", flat=True)) == [fresh_detractor.pk]
    assert list(PromoterThanks.objects.values_list("response", flat=True)) == [fresh_promoter.pk]
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["fan@example.com"]
    # The old answers count in the figures of their days, like any answer.
    scope = Scope(org_a, (timezone.now() - timedelta(days=4)).date(), (timezone.now() + timedelta(days=1)).date())
    assert figures(scope)["nps"].n == 4
    assert {old_detractor.pk, old_promoter.pk}.isdisjoint(cases.values_list("response", flat=True))

    # The window is the rule's own call-back time: a rule that calls back within 2 hours leaves a
    # 3-hour-old answer alone.
    CloseLoopRule.objects.filter(pk=rules[0].pk).update(contact_within_hours=2, close_within_hours=24)
    with django_capture_on_commit_callbacks(execute=True):
        late = send(1, 3, "late@example.com")
    assert not cases.filter(response=late).exists()
