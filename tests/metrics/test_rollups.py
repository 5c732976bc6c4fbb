"""Rollups always equal a from-scratch computation: duplicated, lost or repeated work cannot
leave a figure wrong for long."""

import uuid
from datetime import timedelta
from unittest import mock

import pytest
from django.core.management import call_command
from django.utils import timezone

from metrics import definitions, rollups
from metrics.models import DailyRollup
from metrics.services import reconcile_recent
from surveys import services as survey_services
from tests import factories

pytestmark = pytest.mark.django_db


def snapshot(org):
    fields = ["survey_id", "touchpoint_id", "channel_id", "segment", "language", "day", "responses", "skipped",
              "completed", "comments", "positive_comments", "neutral_comments", "negative_comments", "score_sum",
              "attributes", *[f"c{i}" for i in range(11)]]
    return sorted(map(repr, DailyRollup.objects.filter(organization=org).values_list(*fields)))


def from_scratch(org):
    """What the rollups must be: computed afresh over all time into an empty table."""
    before = snapshot(org)
    DailyRollup.objects.filter(organization=org).delete()
    rollups.rebuild(org, timezone.now().date() - timedelta(days=800), timezone.now().date() + timedelta(days=2))
    expected = snapshot(org)
    return before, expected


def record(link, score, *, comment="", customer=None, language="en", when=None, capture=None):
    survey = link.survey
    data = {"score": score, "comment": comment} if score is not None else {"comment": comment}
    sub = survey_services.clean_submission(survey, data, complete=score is not None)
    response, _ = survey_services.record_response(
        survey=survey, submission=sub, complete=score is not None, language=language, distribution=link,
        token=uuid.uuid4(), customer=customer, submitted_at=when,
    )
    return response


def test_recorded_responses_update_their_rollup_through_the_event(org_a, django_capture_on_commit_callbacks):
    org_a.segment_attribute = "plan"
    org_a.save()
    link = factories.distribution(org_a)
    customer = factories.customer(org_a)
    customer.attributes = {"plan": "subscription"}
    customer.save()
    with django_capture_on_commit_callbacks(execute=True):
        for score in (10, 9, 7, 3):
            record(link, score, customer=customer, comment="x" if score < 5 else "")
        record(link, None)  # started, score skipped: in progress, it counts nowhere yet
    assert sum(r.skipped for r in DailyRollup.objects.filter(organization=org_a)) == 0
    with django_capture_on_commit_callbacks(execute=True):  # left unfinished: counts as its last state
        assert survey_services.abandon_unfinished(now=timezone.now() + timedelta(minutes=31)) == 1
    rows = DailyRollup.objects.filter(organization=org_a)
    total = {i: sum(r.score_counts()[i] for r in rows) for i in range(11)}
    figure = definitions.nps(total, skipped=sum(r.skipped for r in rows))
    assert figure.value == pytest.approx(25.0)  # 2 promoters, 1 detractor of 4
    assert (figure.n, figure.skipped) == (4, 1)
    assert {r.segment for r in rows if r.responses} == {"subscription"}
    assert sum(r.comments for r in rows) == 1
    before, expected = from_scratch(org_a)
    assert before == expected


def test_duplicated_and_lost_tasks_leave_rollups_equal_to_a_rebuild(org_a, django_capture_on_commit_callbacks):
    link = factories.distribution(org_a)
    with django_capture_on_commit_callbacks(execute=True):
        delivered = [record(link, s) for s in (10, 8, 2)]
    # A duplicated task: the same response's handler runs again (and again).
    for _ in range(3):
        rollups.refresh_for_response(delivered[0].pk)
    # A lost task: the broker never got it, and no beat re-delivered it yet.
    from cxplatform.tasks import deliver_event

    with mock.patch.object(deliver_event, "apply_async", side_effect=ConnectionError), \
            django_capture_on_commit_callbacks(execute=True):
        record(link, 0)
    assert sum(r.responses for r in DailyRollup.objects.all()) == 3  # the lost one is missing for now
    reconcile_recent(days=2)  # the nightly reconciliation
    assert sum(r.responses for r in DailyRollup.objects.all()) == 4
    before, expected = from_scratch(org_a)
    assert before == expected


def test_a_worker_killed_mid_rebuild_changes_nothing(org_a, django_capture_on_commit_callbacks):
    link = factories.distribution(org_a)
    with django_capture_on_commit_callbacks(execute=True):
        for score in (9, 9, 4):
            record(link, score)
    good = snapshot(org_a)
    # The worker dies after deleting the day's rows, before inserting them again: the
    # transaction rolls back, so the rollups are what they were.
    with mock.patch.object(rollups, "_insert_groups", side_effect=SystemExit("killed")), \
            pytest.raises(SystemExit):
        rollups.rebuild(org_a, timezone.now().date(), timezone.now().date() + timedelta(days=1))
    assert snapshot(org_a) == good


def test_a_response_completed_the_next_day_moves_between_days(org_a, django_capture_on_commit_callbacks):
    link = factories.distribution(org_a)
    yesterday = timezone.now() - timedelta(days=1)
    response = factories.response(org_a, link, score=None, status="abandoned", submitted_at=None)
    response.started_at = yesterday
    response.save()
    rollups.refresh_for_response(response.pk)
    assert DailyRollup.objects.get(day=yesterday.date()).skipped == 1
    with django_capture_on_commit_callbacks(execute=True):
        sub = survey_services.clean_submission(link.survey, {"score": "9"}, complete=True)
        survey_services.record_response(survey=link.survey, submission=sub, complete=True, language="en",
                                        distribution=link, token=response.token)
    assert not DailyRollup.objects.filter(day=yesterday.date()).exists()
    assert DailyRollup.objects.get(day=timezone.now().date()).c9 == 1


def test_csi_attribute_sums_are_rolled_up(org_a, django_capture_on_commit_callbacks):
    survey = factories.survey(org_a, "csi")
    speed = factories.question(org_a, survey, kind="csi_attribute", ask_importance=True)
    link = factories.distribution(org_a, survey)
    with django_capture_on_commit_callbacks(execute=True):
        for number, importance in ((5, 4), (3, None)):
            data = {speed.key: str(number)}
            if importance:
                data[f"{speed.key}__importance"] = str(importance)
            sub = survey_services.clean_submission(survey, data, complete=True)
            survey_services.record_response(survey=survey, submission=sub, complete=True, language="en",
                                            distribution=link, token=uuid.uuid4())
    row = DailyRollup.objects.get()
    assert row.responses == 2
    assert row.attributes == {speed.key: [2, 8, 1, 4]}


def test_rebuild_command_covers_the_whole_history(org_a):
    link = factories.distribution(org_a)
    for days_ago in (0, 100, 300):
        r = factories.response(org_a, link, score=8)
        moment = timezone.now() - timedelta(days=days_ago)
        type(r).objects.filter(pk=r.pk).update(started_at=moment, submitted_at=moment)
    call_command("rebuild_metrics", "--org", org_a.slug, stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert DailyRollup.objects.filter(organization=org_a).count() == 3
    assert sum(r.c8 for r in DailyRollup.objects.all()) == 3
