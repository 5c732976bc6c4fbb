"""Goals: the baseline measured from the data, the target's direction per KPI, and progress — the
weekly curve against the plan line and whether the goal is on track."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from actions import kpis, progress, services
from actions.models import Goal, HistoryEntry
from actions.progress import Point
from metrics import selectors
from tests import factories

pytestmark = pytest.mark.django_db


def test_the_baseline_is_the_kpi_over_the_last_30_days_of_the_goals_scope(
        org_a, manager, delivery, nps_link, answer, today):
    answer(nps_link, [10, 10, 9, 3], today - timedelta(days=29))  # the first day of the window
    answer(nps_link, [0, 0, 0], today - timedelta(days=30))  # the day before it
    elsewhere = factories.distribution(org_a, nps_link.survey)  # another touchpoint
    answer(elsewhere, [0, 0], today)

    goal = services.create_goal(org_a, manager, kpi="nps", target=80, deadline=today + timedelta(days=90),
                                owner=manager, touchpoints=[delivery])

    # 3 promoters and 1 detractor of 4: the 30 days, at Home delivery only.
    assert goal.baseline == Decimal("50.00")
    assert goal.baseline_n == 4
    assert goal.baseline_margin_of_error is not None and goal.baseline_margin_of_error > 0
    # Exactly what the dashboard says for the same 30 days and touchpoint.
    dashboard = selectors.figures(selectors.Scope(org_a, today - timedelta(days=29), today + timedelta(days=1),
                                                  touchpoints=(delivery.pk,)))["nps"]
    assert goal.baseline == progress.to_decimal(dashboard.value)
    everyone = services.measured_baseline(org_a, "nps", today)
    assert everyone.n == 6  # without the scope, the other touchpoint counts too


def test_a_typed_baseline_is_kept_but_has_no_sample_unless_it_is_the_measured_one(
        org_a, manager, nps_link, answer, today):
    answer(nps_link, [10, 10, 3], today)  # NPS 33.33
    typed = services.create_goal(org_a, manager, kpi="nps", baseline="20", target=40,
                                 deadline=today + timedelta(days=30), owner=manager)
    assert typed.baseline == Decimal("20.00") and typed.baseline_n is None and typed.baseline_margin_of_error is None
    shown = services.create_goal(org_a, manager, kpi="nps", baseline="33.33", target=40,
                                 deadline=today + timedelta(days=30), owner=manager)
    assert shown.baseline_n == 3  # the form showed the measured value and it was left as it was


def test_without_data_the_baseline_must_be_typed_in(org_a, manager, today):
    with pytest.raises(services.ActionsError) as refused:
        services.create_goal(org_a, manager, kpi="csat", target=90, deadline=today + timedelta(days=30), owner=manager)
    assert refused.value.field == "baseline" and "no CSAT data" in refused.value.message
    assert not Goal.objects.exists()


@pytest.mark.parametrize(("kpi", "baseline", "target", "ok"), [
    ("nps", 10, 30, True), ("nps", 10, 5, False), ("nps", 10, 10, False),
    ("first_response_time", 8, 4, True), ("first_response_time", 8, 12, False),
    ("churn_rate", "5.5", "4", True), ("churn_rate", 5, 6, False),
])
def test_the_target_must_be_better_than_the_baseline_in_the_kpis_direction(
        org_a, manager, today, kpi, baseline, target, ok):
    create = lambda: services.create_goal(org_a, manager, kpi=kpi, baseline=baseline, target=target,  # noqa: E731
                                          deadline=today + timedelta(days=60), owner=manager)
    if ok:
        assert create().target == Decimal(str(target))
        return
    with pytest.raises(services.ActionsError) as refused:
        create()
    word = "lower" if kpis.get(kpi).lower_is_better else "higher"
    assert refused.value.field == "target" and f"must be {word} than the baseline" in refused.value.message


@pytest.mark.parametrize(("kpi", "value", "message"), [
    ("nps", 150, "NPS runs from -100 to 100."), ("csat", -1, "CSAT runs from 0 to 100."),
    ("first_response_time", -2, "First response time cannot be below 0."),
])
def test_a_target_outside_the_kpis_scale_is_refused(org_a, manager, today, kpi, value, message):
    with pytest.raises(services.ActionsError) as refused:
        services.create_goal(org_a, manager, kpi=kpi, baseline=0 if kpi != "first_response_time" else 5,
                             target=value, deadline=today + timedelta(days=60), owner=manager)
    assert refused.value.message == message


def test_dates_and_owner_are_checked(org_a, org_b, manager, today):
    common = {"kpi": "nps", "baseline": 0, "target": 10, "owner": manager}
    with pytest.raises(services.ActionsError, match="deadline must be after the start"):
        services.create_goal(org_a, manager, deadline=today, **common)
    stranger = factories.member(org_b)
    with pytest.raises(services.ActionsError, match="member of this organization"):
        services.create_goal(org_a, manager, deadline=today + timedelta(days=9), **{**common, "owner": stranger})
    assert not Goal.objects.exists()


def test_the_title_is_written_when_left_empty(org_a, manager, delivery, today):
    march = date(today.year + 1, 3, 31)
    goal = services.create_goal(org_a, manager, kpi="nps", baseline=12, target=30, deadline=march, owner=manager,
                                touchpoints=[delivery])
    assert goal.title == f"NPS at {delivery.name} from 12 to 30 by 31 March {march.year}"
    hours = services.create_goal(org_a, manager, kpi="first_response_time", baseline=8, target=4,
                                 deadline=today + timedelta(days=9), owner=manager)
    assert hours.title.startswith("First response time from 8.0 h to 4.0 h by ")


def test_values_are_rounded_half_up_like_the_dashboards_figures():
    assert kpis.get("nps").format(Decimal("-34.5")) == "-35"  # NPS in whole points, half up (away from 0)
    assert kpis.get("nps").format(Decimal("12.5")) == "13"
    assert kpis.get("ces").format(Decimal("4.05")) == "4.1"
    assert kpis.get("first_response_time").format(Decimal("4")) == "4.0 h"
    assert kpis.get("csat").format(None) == "—"


def test_setting_and_changing_a_goal_is_in_its_history(org_a, manager, agent, today):
    goal = services.create_goal(org_a, manager, kpi="nps", baseline=10, target=30,
                                deadline=today + timedelta(days=60), owner=manager, title="Delivery NPS")
    services.update_goal(goal, agent, target=Decimal(40), owner=agent)
    created, changed = HistoryEntry.objects.filter(goal=goal).order_by("id")
    assert created.event == "goal_created" and created.actor == manager
    assert changed.actor == agent and changed.changes["target"] == ["30.00", "40.00"]
    assert changed.changes["owner"][1] == agent.username
    assert ("target", "30.00", "40.00") in changed.described_changes()
    goal.refresh_from_db()
    assert goal.target == Decimal(40) and goal.baseline == Decimal(10)  # an edit never re-measures the baseline
    services.update_goal(goal, agent, target=Decimal(40))  # no change, no entry
    assert HistoryEntry.objects.filter(goal=goal).count() == 2


# --- Progress -------------------------------------------------------------------------------------


def goal_of(kpi="nps", baseline=0, target=40, start=None, days=80, **fields):
    start = start or timezone.now().date() - timedelta(days=40)
    return Goal(kpi=kpi, baseline=Decimal(baseline), target=Decimal(target), start_date=start,
                deadline=start + timedelta(days=days), **fields)


def point(goal, day, value, n=100):
    return Point(day, None if value is None else Decimal(value), n, Decimal(5), progress.planned(goal, day))


def test_the_plan_is_the_straight_line_from_baseline_to_target():
    goal = goal_of(baseline=0, target=40, days=80)
    assert progress.planned(goal, goal.start_date) == Decimal(0)
    assert progress.planned(goal, goal.start_date + timedelta(days=20)) == Decimal(10)
    assert progress.planned(goal, goal.deadline) == Decimal(40)
    assert progress.planned(goal, goal.deadline + timedelta(days=5)) == Decimal(40)  # it stays at the target


def test_on_track_means_at_or_above_the_line_when_higher_is_better():
    goal = goal_of(baseline=0, target=40, days=80)
    day = goal.start_date + timedelta(days=40)  # the plan says 20
    assert progress.verdict(goal, point(goal, day, 20), day) == "on_track"
    assert progress.verdict(goal, point(goal, day, "19.99"), day) == "behind"
    assert progress.verdict(goal, point(goal, day, 41), day) == "reached"


def test_on_track_means_at_or_below_the_line_when_lower_is_better():
    goal = goal_of(kpi="first_response_time", baseline=8, target=4, days=80)
    day = goal.start_date + timedelta(days=40)  # the plan says 6 hours
    assert progress.verdict(goal, point(goal, day, 6), day) == "on_track"
    assert progress.verdict(goal, point(goal, day, "6.5"), day) == "behind"
    assert progress.verdict(goal, point(goal, day, 3), day) == "reached"


def test_a_small_sample_or_no_data_is_not_enough_to_tell():
    goal = goal_of(baseline=0, target=40, days=80)
    day = goal.start_date + timedelta(days=40)
    assert progress.verdict(goal, point(goal, day, 90, n=29), day) == "not_enough_data"
    assert progress.verdict(goal, point(goal, day, 90, n=30), day) == "reached"
    assert progress.verdict(goal, point(goal, day, None, n=0), day) == "not_enough_data"
    assert progress.verdict(goal, None, day) == "not_enough_data"


def test_before_the_start_and_after_the_deadline():
    goal = goal_of(baseline=0, target=40, days=80)
    assert progress.verdict(goal, None, goal.start_date - timedelta(days=1)) == "not_started"
    after = goal.deadline + timedelta(days=3)
    assert progress.verdict(goal, point(goal, goal.deadline, 39), after) == "missed"


def test_points_are_weekly_from_the_start_and_end_today():
    start = timezone.now().date()
    assert progress.point_days(start, start + timedelta(days=60), start + timedelta(days=16)) == [
        start, start + timedelta(days=7), start + timedelta(days=14), start + timedelta(days=16)]
    assert progress.point_days(start, start + timedelta(days=60), start + timedelta(days=14))[-1] == start + timedelta(
        days=14)
    # After the deadline the curve stops there.
    assert progress.point_days(start, start + timedelta(days=10), start + timedelta(days=30))[-1] == start + timedelta(
        days=10)
    assert progress.point_days(start, start + timedelta(days=10), start - timedelta(days=1)) == []


def test_each_point_is_the_kpi_over_the_30_days_ending_on_it(org_a, manager, nps_link, answer, today):
    start = today - timedelta(days=14)
    answer(nps_link, [10] * 20 + [0] * 20, start - timedelta(days=5))  # NPS 0, before the start
    answer(nps_link, [10] * 30, today - timedelta(days=2))  # NPS 100, this week
    goal = services.create_goal(org_a, manager, kpi="nps", target=50, deadline=start + timedelta(days=60),
                                owner=manager, start_date=start, today=start)
    assert goal.baseline == Decimal(0) and goal.baseline_n == 40

    result = progress.progress(goal, today)
    assert [p.day for p in result.points] == [start, start + timedelta(days=7), today]
    first, middle, last = result.points
    assert (first.value, first.n) == (Decimal(0), 40)  # the first point is the baseline
    assert (middle.value, middle.n) == (Decimal(0), 40)
    assert (last.value, last.n) == (Decimal("42.86"), 70)  # 50 promoters, 20 detractors
    assert last.planned == Decimal("11.67")  # 14 of 60 days along the line from 0 to 50
    assert result.verdict == "on_track"
    assert result.change == Decimal("42.86") and result.significant is True
    as_json = progress.as_dict(goal, result)
    assert as_json["points"][-1] == {"day": today.isoformat(), "value": "42.86", "n": 70,
                                     "margin_of_error": str(last.margin_of_error), "planned": "11.67",
                                     "small_sample": False}
    assert as_json["verdict"] == "on_track" and as_json["lower_is_better"] is False


@pytest.mark.parametrize("kpi", ["nps", "csat", "ces"])
def test_a_point_of_a_score_kpi_is_exactly_the_dashboards_figure(org_a, delivery, answer, today, kpi):
    scale = {"nps": range(11), "csat": range(1, 6), "ces": range(1, 8)}[kpi]
    link = factories.distribution(org_a, factories.survey(org_a, kpi), touchpoint=delivery)
    for days_ago, scores in [(1, [*scale, *scale[-2:]]), (12, list(scale)[:3]), (31, list(scale)[-1:] * 5)]:
        answer(link, scores, today - timedelta(days=days_ago))
    other = factories.survey(org_a, "csat" if kpi == "nps" else "nps")  # another measure at the same touchpoint
    answer(factories.distribution(org_a, other, touchpoint=delivery), [1, 2], today)
    scope = progress.GoalScope(org_a, touchpoints=(delivery.pk,))
    fast = progress.measure(scope, kpi, today)
    assert fast == selectors.figures(scope.window(today))[kpi]
    assert fast.n == len(scale) + 2 + 3


def test_a_goal_whose_latest_month_has_few_answers_says_so(org_a, manager, nps_link, answer, today):
    answer(nps_link, [10] * 5, today)
    goal = services.create_goal(org_a, manager, kpi="nps", baseline=-20, target=10,
                                deadline=today + timedelta(days=60), owner=manager)
    result = progress.progress(goal, today)
    assert result.latest.value == Decimal(100) and result.latest.small_sample
    assert result.verdict == "not_enough_data"  # 100 is above the target, but from 5 answers
    assert result.significant is None  # a typed baseline has no margin of error to compare


def test_a_generated_title_reads_in_the_readers_language(org_a, manager, delivery, today, client_for):
    """Generated in a Latvian organization, read by an English and a Russian reader in their own."""
    from django.utils import translation

    org_a.default_language = "lv"
    org_a.save()
    march = date(today.year + 1, 3, 31)
    goal = services.create_goal(org_a, manager, kpi="nps", baseline=12, target=30, deadline=march, owner=manager,
                                touchpoints=[delivery])
    # The organization's words (search), the deadline in each language's grammar: "līdz" takes the
    # dative in Latvian, "к" the month's genitive in Russian.
    assert goal.title == f"NPS punktā “{delivery.name}” no 12 uz 30 līdz {march.year}. gada 31. martam"
    with translation.override("en"):
        assert goal.display_title == f"NPS at {delivery.name} from 12 to 30 by 31 March {march.year}"
    with translation.override("ru"):
        assert goal.display_title == f"NPS в точке «{delivery.name}» с 12 до 30 к 31 марта {march.year}\u202fг."
    page = client_for(manager).get(f"/actions/goals/{goal.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"NPS at {delivery.name} from 12 to 30 by 31 March" in page
    # The history names the goal in the reader's language too (it kept the Latvian words).
    history = page.split('id="history"')[1].split("</ul>")[0]
    assert f"NPS at {delivery.name} from 12 to 30 by 31 March" in history and "punktā" not in history
    api = client_for(manager).get(f"/api/v1/goals/{goal.pk}/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert api["title"].startswith("NPS at") and api["title_message"]["id"] == "actions.goal_title_at"
    # An edit that leaves the title alone keeps it generated (and follows the new target).
    goal = services.update_goal(goal, manager, target=40)
    with translation.override("en"):
        assert goal.display_title == f"NPS at {delivery.name} from 12 to 40 by 31 March {march.year}"
    # Its history lists the target's change, not the generated title's Latvian words.
    page = client_for(manager).get(f"/actions/goals/{goal.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    history = page.split('id="history"')[1].split("</ul>")[0]
    assert "target: 30.00 → 40.00" in history and "punktā" not in history
    # A typed title is the owner's words, the same for every reader.
    goal = services.update_goal(goal, manager, title="Fix delivery")
    with translation.override("ru"):
        assert goal.display_title == "Fix delivery" and goal.title_message == {}
