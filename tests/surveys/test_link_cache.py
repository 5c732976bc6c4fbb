"""A process keeps the survey links it read for a moment (surveys/respondent.py): a burst of
customers on one link reads it once, an edit saved here shows at once, one saved elsewhere within
PUBLIC_LINK_CACHE_SECONDS."""

from unittest import mock

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from surveys import respondent
from surveys.models import Survey

from .test_public_page import page_url

pytestmark = pytest.mark.django_db


def _distribution_reads(client, url):
    with CaptureQueriesContext(connection) as seen:
        assert client.get(url, follow=True).status_code == 200
    return sum('FROM "surveys_distribution"' in q["sql"] for q in seen.captured_queries)


def test_a_link_read_once_serves_the_next_customers_without_reading_it_again(nps_link):
    assert _distribution_reads(Client(), page_url(nps_link)) == 1
    assert _distribution_reads(Client(), page_url(nps_link)) == 0


def test_without_keeping_every_request_reads_the_link(nps_link, settings):
    settings.PUBLIC_LINK_CACHE_SECONDS = 0
    assert _distribution_reads(Client(), page_url(nps_link)) == 1
    assert _distribution_reads(Client(), page_url(nps_link)) == 1


def test_a_survey_paused_here_stops_taking_answers_at_once(nps_link):
    assert Client().get(page_url(nps_link), follow=True).status_code == 200
    survey = nps_link.survey
    survey.status = Survey.Status.PAUSED
    survey.save()
    assert Client().get(page_url(nps_link)).status_code == 409


def test_a_change_made_by_another_process_shows_once_the_moment_has_passed(nps_link, settings):
    settings.PUBLIC_LINK_CACHE_SECONDS = 2
    now = [1000.0]
    with mock.patch.object(respondent.time, "monotonic", side_effect=lambda: now[0]):
        assert Client().get(page_url(nps_link), follow=True).status_code == 200
        # Another process closes the survey: no signal reaches this one.
        Survey.objects.filter(pk=nps_link.survey_id).update(status=Survey.Status.CLOSED)
        now[0] += 1
        assert Client().get(page_url(nps_link), follow=True).status_code == 200
        now[0] += 1.5
        assert Client().get(page_url(nps_link)).status_code == 410
