"""Comments recorded before they were read (or read by an older model) are read again by one
command, and the figures follow."""

import io

import pytest
from django.core.management import call_command

from metrics import selectors
from metrics.services import reconcile_recent
from surveys.models import Response, ResponseTheme
from tests import factories

pytestmark = pytest.mark.django_db


def test_reread_comments_fills_sentiment_themes_and_rollups(org_a, org_b):
    link = factories.distribution(org_a, factories.survey(org_a, "nps"))
    for text in ("Курьер опоздал, ужасный сервис", "Отличный самокат, спасибо!", ""):
        factories.response(org_a, link, score=5, comment=text, language="ru")  # bypasses the reading
    foreign = factories.response(org_b, score=5, comment="Ужасно")
    reconcile_recent(days=2)
    assert not Response.objects.filter(sentiment__isnull=False).exists()

    out = io.StringIO()
    call_command("reread_comments", "--org", org_a.slug, stdout=out)
    assert "Read 2 comments" in out.getvalue()
    assert sorted(Response.objects.filter(organization=org_a).exclude(comment="")
                  .values_list("sentiment", flat=True)) == [-1, 1]
    assert ResponseTheme.objects.filter(organization=org_a, phrase="courier").count() == 1
    foreign.refresh_from_db()
    assert foreign.sentiment is None  # another organization is left alone
    from datetime import timedelta

    from django.utils import timezone

    today = timezone.now().date()
    figure = selectors.figures(selectors.Scope(org_a, today - timedelta(days=1), today + timedelta(days=1)))
    assert figure["sentiment"].counts == {"positive": 1, "neutral": 0, "negative": 1}
    call_command("reread_comments", "--org", org_a.slug, stdout=io.StringIO())  # again: nothing doubles
    assert ResponseTheme.objects.filter(organization=org_a, phrase="courier").count() == 1
