"""In a real browser on the demo: a CX manager turns the NPS card of the dashboard into a goal,
plans an action, marks it done and sees the progress chart and "1 of 1 actions done"."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from actions.models import ActionItem, Goal
from cxplatform.demo import DEMO_PASSWORD, load_demo
from metrics import formatting

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_a_manager_sets_a_goal_from_the_nps_card_and_closes_its_first_action(live_server, page, artifact):
    load_demo()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "manager")
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")

    # The dashboard, narrowed to Home delivery (htmx re-renders the cards).
    page.goto(f"{live_server.url}/")
    with page.expect_response(lambda r: "touchpoint=" in r.url):
        page.select_option("#id_touchpoint", label="Home delivery")
    page.wait_for_function("() => location.search.includes('touchpoint=')")
    card_value = page.locator("#kpi-nps .value").inner_text()
    page.click("#kpi-nps >> text=Create a goal from this figure")

    # The form comes prefilled: the KPI, the dashboard's touchpoint, the baseline from the data.
    page.wait_for_selector("#goal-form")
    assert page.locator("#id_kpi").input_value() == "nps"
    chosen = page.eval_on_selector("#id_touchpoint", "s => [...s.selectedOptions].map(o => o.text)")
    assert chosen == ["Home delivery"]
    baseline = Decimal(page.locator("#id_baseline").input_value())
    # The very figure of the card (NPS in whole points, rounded half up: the one rule).
    assert formatting.figure("nps", baseline) == card_value
    target = min(baseline + 20, Decimal(100)).quantize(Decimal(1))
    deadline = timezone.now().date() + timedelta(days=90)
    page.fill("#id_target", str(target))
    page.fill("#id_deadline", deadline.isoformat())
    page.click("#goal-save")

    page.wait_for_selector("#goal-review")
    goal = Goal.objects.get(target=target, deadline=deadline)
    assert goal.baseline == baseline and goal.baseline_n  # measured, so the review can show n and ±
    assert "0 of 0 actions done" in page.locator("#actions-done").inner_text()
    assert f"from {card_value} to {target} by" in page.locator("h1").inner_text()  # the title, written for us

    # Plan an action under the goal, then mark it done from the goal's page.
    page.click("#add-action")
    page.fill("#id_title", "Courier texts a two-hour delivery window")
    page.click("#action-save")
    page.wait_for_selector("#goal-actions")
    action = ActionItem.objects.get(goal=goal)
    page.select_option(f"#status-{action.pk}", "done")
    page.click(f"#action-{action.pk} button[type=submit]")
    page.wait_for_function("() => document.querySelector('#actions-done').innerText.includes('1 of 1 actions done')")
    page.wait_for_selector("#chart-progress .main-svg", timeout=15_000)  # plotly drew the curve and the plan
    assert page.locator("#chart-progress .scatterlayer .trace").count() >= 2
    assert "Done" in page.locator("#history").inner_text()
    page.screenshot(path=artifact("goal-from-dashboard.png"), full_page=True)
    action.refresh_from_db()
    assert action.status == "done" and action.done_at is not None
