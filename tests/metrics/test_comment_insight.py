"""Comment sentiment and themes from the public door to the dashboard: every recorded comment is
read once, the rollups count its sentiment, the dashboard lists the period's themes, and each
theme drills down to exactly the comments that mention it."""

import uuid

import pytest
from django.test import TestCase

from cxplatform.models import Role
from metrics import selectors
from metrics.services import reconcile_recent
from surveys import services
from surveys.models import Response, ResponseTheme
from tests import factories

pytestmark = pytest.mark.django_db

COMMENTS = [
    (2, "Курьер опоздал на два часа, ужасно."),
    (3, "Курьеры опять опоздали, доставка отвратительная"),
    (1, "The courier was late and rude."),
    (10, "Отличный самокат, спасибо!"),
    (9, "Great scooter, fast delivery."),
    (7, ""),
]


def _record(link, score, comment, token=None, language="ru"):
    """An answer with its events delivered on commit, as the embedded default does: the comment
    is read by its subscriber right after the answer's transaction."""
    sub = services.clean_submission(link.survey, {"score": score, "comment": comment}, complete=True)
    with TestCase.captureOnCommitCallbacks(execute=True):
        response, _ = services.record_response(survey=link.survey, submission=sub, complete=True,
                                               language=language, distribution=link, token=token or uuid.uuid4())
    response.refresh_from_db()
    return response


@pytest.fixture
def link(org_a):
    link = factories.distribution(org_a, factories.survey(org_a, "nps"))
    for score, comment in COMMENTS:
        _record(link, score, comment)
    reconcile_recent(days=2)
    return link


def test_a_recorded_comment_gets_sentiment_and_themes(link):
    late = Response.objects.get(comment__startswith="Курьер опоздал")
    assert late.sentiment == -1 and late.sentiment_score < 0
    assert set(late.themes.values_list("phrase", flat=True)) >= {"courier"}  # the concept, whatever the language
    silent = Response.objects.get(comment="")
    assert silent.sentiment is None and not silent.themes.exists()


def test_an_edited_comment_is_read_again(link):
    token = uuid.uuid4()
    response = _record(link, 3, "Ужасная поддержка", token=token)
    assert response.sentiment == -1
    response = _record(link, 9, "Поддержка помогла, отличная работа, спасибо", token=token)
    assert response.sentiment == 1
    assert ResponseTheme.objects.filter(response=response, phrase="support").count() == 1  # replaced, not added


def test_the_summary_counts_comment_sentiment_from_rollups(link, org_a):
    figures = selectors.figures(selectors.Scope(org_a, *_today()))
    sentiment = figures["sentiment"]
    assert sentiment.n == 5  # the empty comment is no comment
    assert sentiment.counts == {"positive": 2, "neutral": 0, "negative": 3}
    assert sentiment.value == pytest.approx((2 - 3) / 5 * 100)


def test_dashboard_lists_themes_and_each_drills_to_its_comments(link, org_a, make_member, client_for):
    client = client_for(make_member(org_a, Role.VIEWER))
    page = client.get("/")
    fragment_url = page.content.decode().split('id="themes" hx-get="')[1].split('"')[0].replace("&amp;", "&")
    assert fragment_url.startswith("/metrics/themes/")
    fragment = client.get(fragment_url)
    themes = {t["phrase"]: t for t in fragment.context["themes"]}
    courier = themes["courier"]  # "Курьер", "Курьеры" and the English "courier": one concept
    assert courier["mentions"] == 3 and courier["negative_share"] == 100
    listed = client.get(courier["drill_url"])
    assert listed.context["page"].paginator.count == 3
    assert "courier" in fragment.content.decode().lower()
    negative = client.get(page.context["sentiment_links"]["negative"])
    assert negative.context["page"].paginator.count == 3


def test_another_organization_sees_none_of_the_themes(link, org_b, make_member, client_for):
    client = client_for(make_member(org_b, Role.VIEWER))
    page = client.get("/")
    assert client.get("/metrics/themes/").context["themes"] == []
    assert page.context["sentiment"]["n"] == 0


def test_comments_behind_a_figure_are_shown_escaped(link, org_a, make_member, client_for):
    _record(link, 0, "<script>alert(1)</script> ужасный сервис")
    reconcile_recent(days=2)
    client = client_for(make_member(org_a, Role.VIEWER))
    url = client.get("/").context["sentiment_links"]["negative"]
    body = client.get(url).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "<script>alert(1)" not in body


def _today():
    from datetime import timedelta

    from django.utils import timezone

    today = timezone.now().date()
    return today - timedelta(days=1), today + timedelta(days=1)
