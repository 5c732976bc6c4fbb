"""Churn rate and CLV from customer data, checked against numbers worked out by hand."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.test import override_settings

from cxplatform.models import Customer
from metrics.customer_value import customer_value, monthly_churn

pytestmark = pytest.mark.django_db

START, END = date(2025, 1, 1), date(2025, 4, 1)  # [start, end): 31 + 28 + 31 = 90 days
AS_OF = date(2025, 6, 30)


def customer(org, key, active_since=None, cancelled_on=None, revenue="0", plan="purchase", created=None):
    c = Customer.objects.create(
        organization=org, external_id=key, active_since=active_since, cancelled_on=cancelled_on,
        revenue=Decimal(revenue), attributes={"plan": plan},
    )
    if created:
        Customer.objects.filter(pk=c.pk).update(created_at=datetime.combine(created, datetime.min.time(), UTC))
    return c


@pytest.fixture
def worked_example(org_a):
    org_a.segment_attribute = "plan"
    org_a.save()
    # At the start (2025-01-01): A, B, G, H and I.  Lost in [start, end): B and H.
    customer(org_a, "A", AS_OF - timedelta(days=300), revenue="1000")  # 1000 in 300 days (10 months)
    customer(org_a, "B", date(2024, 10, 1), date(2025, 2, 28), revenue="750")  # 750 in 150 days (5 months)
    customer(org_a, "G", date(2024, 1, 1), END)  # cancels on `end`: outside the period, not lost
    customer(org_a, "H", date(2024, 5, 1), START, plan="subscription")  # cancels on `start`: lost
    customer(org_a, "I", created=date(2024, 6, 1))  # no active_since: counts from when it was added
    # Not at the start.
    customer(org_a, "E", date(2025, 2, 1), date(2025, 3, 1), revenue="50")  # 28 days count as 1 month
    customer(org_a, "F", date(2023, 1, 1), date(2024, 12, 31), revenue="999")  # gone before the period
    customer(org_a, "J", date(2025, 5, 1), revenue="400")  # joins after the period
    customer(org_a, "K", revenue="300")  # revenue but no start date: no revenue per month; added today
    return org_a


def test_worked_example(worked_example):
    result = customer_value(worked_example, START, END, gross_margin=0.5, as_of=AS_OF)

    assert result["customers_at_start"] == 5
    assert result["lost"] == 2
    assert result["churn_rate"].value == pytest.approx(40.0)
    assert result["churn_rate"].n == 5
    # Customers with revenue during the period (A, B, E): (1000 + 750 + 50) / (10 + 5 + 1) months
    assert result["average_revenue_per_month"] == Decimal("112.50")
    # 40 % in 90 days is 1 − 0.6^(30/90) = 15.657 % a month; CLV = 112.50 × 0.5 / 0.15657 = 359.27
    monthly = 1 - 0.6 ** (1 / 3)
    assert monthly_churn(0.4, 90) == pytest.approx(monthly)
    assert result["clv"].value == pytest.approx(112.5 * 0.5 / monthly)
    assert result["clv"].value == pytest.approx(359.27, abs=0.01)
    assert result["clv"].counts["expected_periods"] == pytest.approx(6.4)


def test_gross_margin_comes_from_the_setting_by_default(worked_example):
    monthly = 1 - 0.6 ** (1 / 3)
    assert customer_value(worked_example, START, END, as_of=AS_OF)["clv"].value == pytest.approx(112.5 / monthly)
    with override_settings(CX_GROSS_MARGIN=0.25):
        value = customer_value(worked_example, START, END, as_of=AS_OF)["clv"].value
    assert value == pytest.approx(112.5 * 0.25 / monthly)


def test_segment_filter(worked_example):
    purchase = customer_value(worked_example, START, END, segments=["purchase"], gross_margin=1, as_of=AS_OF)
    assert (purchase["customers_at_start"], purchase["lost"]) == (4, 1)  # H is a subscription customer
    assert purchase["churn_rate"].value == pytest.approx(25.0)
    subscription = customer_value(worked_example, START, END, segments=("subscription",), as_of=AS_OF)
    assert (subscription["customers_at_start"], subscription["lost"]) == (1, 1)
    assert subscription["average_revenue_per_month"] is None  # H brought no revenue
    assert subscription["clv"].value is None
    nobody = customer_value(worked_example, START, END, segments=["corporate fleet"], as_of=AS_OF)
    assert nobody["customers_at_start"] == 0 and nobody["churn_rate"].value is None


def test_other_organizations_do_not_count(worked_example, org_b):
    customer(org_b, "A", date(2024, 1, 1), date(2025, 2, 1), revenue="100000")
    result = customer_value(worked_example, START, END, as_of=AS_OF)
    assert (result["customers_at_start"], result["lost"]) == (5, 2)
    assert result["average_revenue_per_month"] == Decimal("112.50")


def test_empty_organization_gives_no_figures_and_no_error(org_a):
    result = customer_value(org_a, START, END)
    assert result["customers_at_start"] == 0 and result["lost"] == 0
    assert result["churn_rate"].value is None
    assert result["clv"].value is None
    assert result["average_revenue_per_month"] is None


def test_no_churn_means_no_clv(org_a):
    customer(org_a, "A", date(2024, 1, 1), revenue="1200")
    result = customer_value(org_a, START, END, as_of=AS_OF)
    assert result["churn_rate"].value == 0
    assert result["average_revenue_per_month"] is not None
    assert result["clv"].value is None


def test_an_empty_period_is_refused(org_a):
    with pytest.raises(ValueError):
        customer_value(org_a, START, START)


def test_constant_number_of_queries(worked_example, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        customer_value(worked_example, START, END, as_of=AS_OF)


def test_demo_customers_have_churn_and_clv():
    from cxplatform.demo import DEMO_SLUG, load_demo
    from cxplatform.models import Organization

    load_demo()
    org = Organization.objects.get(slug=DEMO_SLUG)
    customers = Customer.objects.for_org(org)
    today = datetime.now(UTC).date()
    assert not customers.filter(active_since__isnull=True).exists()
    assert not customers.filter(active_since__lt=today - timedelta(days=731)).exists()
    assert customers.filter(revenue__lt=400).count() == 0
    cancelled = customers.filter(cancelled_on__isnull=False).count()
    assert 0.06 < cancelled / customers.count() < 0.18
    year = customer_value(org, today - timedelta(days=365), today)
    assert year["lost"] > 0 and year["churn_rate"].value > 0
    assert year["clv"].value > year["average_revenue_per_month"]


def test_summary_api_and_dashboard_carry_churn_and_clv(worked_example, org_a, make_member, client_for):
    from cxplatform.models import Role

    client = client_for(make_member(org_a, Role.VIEWER))
    params = {"from": START.isoformat(), "to": (END - timedelta(days=1)).isoformat()}
    api = client.get("/api/v1/metrics/summary/", params).json()["metrics"]
    expected = customer_value(org_a, START, END)
    assert api["churn_rate"]["value"] == pytest.approx(expected["churn_rate"].value, abs=0.01)
    assert api["churn_rate"]["counts"] == {"hits": 2, "total": 5}
    assert "clv" in api and "previous" in api["churn_rate"]
    card = client.get("/", params).content.decode().split('id="kpi-churn_rate"')[1].split("</article>")[0]
    assert "40.0%" in card and "cancelled during it" in card  # churn keeps a decimal: small shares


def test_clv_is_money_in_the_organizations_currency_and_no_data_is_no_number(worked_example, org_a, make_member,
                                                                            client_for):
    """The card read "5068 · n=0 · small sample · ▼ −13252.3", with no currency."""
    from cxplatform.models import Organization, Role
    from metrics import formatting

    client = client_for(make_member(org_a, Role.VIEWER))
    params = {"from": START.isoformat(), "to": (END - timedelta(days=1)).isoformat()}
    expected = customer_value(org_a, START, END)["clv"]
    assert expected.value is not None and expected.n > 0  # the paying customers behind the average
    card = client.get("/", params).content.decode().split('id="kpi-clv"')[1].split("</article>")[0]
    assert formatting.figure("clv", expected.value, currency="EUR") in card and "€" in card
    assert f"n={expected.n}" in card
    Organization.objects.filter(pk=org_a.pk).update(currency="USD")
    card = client.get("/", params, HTTP_ACCEPT_LANGUAGE="lv").content.decode().split('id="kpi-clv"')[1]
    assert "$" in card.split("</article>")[0]
    # A period with no paying customer has no CLV: "no data", never a number.
    empty = client.get("/", {"from": "2020-01-01", "to": "2020-01-31"}).content.decode()
    card = empty.split('id="kpi-clv"')[1].split("</article>")[0]
    assert '<div class="value none">—</div>' in card and "No data in this period." in card


def test_a_rising_churn_rate_is_worse_in_red_not_green(org_a):
    """A rising churn rate was drawn green ("▲ significant change")."""
    from django.template.loader import render_to_string

    from metrics import definitions

    for change, verdict, words in ((4.0, "worse", "significantly worse"), (-4.0, "better", "significantly better")):
        state = {"change": change, "margin_of_error": 1.0, "significant": True}
        card = {"name": "churn_rate", "label": "Churn rate", "title": "Churn rate", "help": "", "value": 10.0, "n": 500,
                "unit": "%", "small_sample": False, "skipped": 0, "margin_of_error": 1.0,
                "change": {**state, "verdict": definitions.judged("churn_rate", state)}}
        html = render_to_string("metrics/includes/kpi_card.html", {"k": card})
        assert f'class="change {verdict}"' in html and words in html
