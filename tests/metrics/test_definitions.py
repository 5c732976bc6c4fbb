"""Every formula against worked examples, edge cases included."""

import math

import pytest

from metrics import definitions as d


def test_nps_worked_example():
    # 50 promoters, 30 passives, 20 detractors out of 100.
    counts = {10: 30, 9: 20, 8: 20, 7: 10, 6: 5, 3: 10, 0: 5}
    fig = d.nps(counts, skipped=4)
    assert fig.value == pytest.approx(30.0)
    assert fig.n == 100 and fig.skipped == 4
    assert fig.counts == {"promoters": 50, "passives": 30, "detractors": 20}
    # 1.96 · sqrt((0.5 + 0.2 − 0.3²) / 100) · 100 = 15.31
    assert fig.margin_of_error == pytest.approx(d.Z95 * math.sqrt((0.5 + 0.2 - 0.09) / 100) * 100)
    assert fig.margin_of_error == pytest.approx(15.31, abs=0.01)
    assert not fig.small_sample


def test_nps_edge_cases():
    empty = d.nps({})
    assert (empty.value, empty.n, empty.margin_of_error, empty.small_sample) == (None, 0, None, True)
    all_detractors = d.nps({0: 12, 6: 8})
    assert all_detractors.value == -100 and all_detractors.margin_of_error == 0
    one = d.nps({9: 1})
    assert one.value == 100 and one.n == 1 and one.small_sample
    assert d.nps({7: 40}).value == 0  # all passives


def test_csat_top_two_box_and_mean():
    fig = d.csat({5: 40, 4: 20, 3: 20, 2: 10, 1: 10})
    assert fig.value == pytest.approx(60.0)
    assert fig.counts["mean"] == pytest.approx((200 + 80 + 60 + 20 + 10) / 100)
    assert fig.margin_of_error == pytest.approx(d.Z95 * math.sqrt(0.6 * 0.4 / 100) * 100)
    assert d.csat({}).value is None
    assert d.csat({1: 3}).value == 0


def test_ces_mean_and_share_easy():
    fig = d.ces({7: 10, 6: 10, 5: 10, 4: 10, 1: 10})
    assert fig.value == pytest.approx(4.6)
    assert fig.counts == {"easy": 30, "easy_percent": 60.0}
    sd = math.sqrt(sum(c * (s - 4.6) ** 2 for s, c in {7: 10, 6: 10, 5: 10, 4: 10, 1: 10}.items()) / 49)
    assert fig.margin_of_error == pytest.approx(d.Z95 * sd / math.sqrt(50))
    one = d.ces({3: 1})
    assert one.value == 3 and one.margin_of_error is None and one.small_sample


def test_csi_is_importance_weighted():
    attributes = {
        "speed": d.AttributeSums(n=10, score_sum=50, importance_n=10, importance_sum=50),  # mean 5 → 100, w 5
        "price": d.AttributeSums(n=10, score_sum=10, importance_n=10, importance_sum=10),  # mean 1 → 0, w 1
    }
    fig = d.csi(attributes, responses=10)
    assert fig.value == pytest.approx((5 * 100 + 1 * 0) / 6)
    assert fig.counts["attributes"] == {"speed": 100.0, "price": 0.0}


def test_csi_equal_weights_without_importance_and_empty():
    fig = d.csi({"a": d.AttributeSums(n=4, score_sum=12), "b": d.AttributeSums(n=2, score_sum=4)}, responses=4)
    assert fig.value == pytest.approx(((3 - 1) / 4 * 100 + (2 - 1) / 4 * 100) / 2)
    assert d.csi({"a": d.AttributeSums()}).value is None


def test_response_rate_and_shares():
    assert d.response_rate(25, 100).value == 25
    assert d.response_rate(3, 0).value is None
    assert d.rate("fcr", 7, 10).value == pytest.approx(70)
    assert d.rate("sla_compliance", 0, 0).value is None


def test_durations_churn_and_clv():
    assert d.median_duration("first_response_time", [3600, 7200, 36000]).value == 2
    assert d.median_duration("resolution_time", [3600, 7200]).value == 1.5
    assert d.median_duration("resolution_time", []).value is None
    assert d.churn_rate(5, 200).value == 2.5
    fig = d.clv(20, 0.4, 0.02, customers=120)  # 20 €/month, 40% margin, 2% monthly churn → 400 €
    assert fig.value == pytest.approx(400) and fig.counts["expected_periods"] == 50 and fig.n == 120
    assert d.clv(20, 0.4, 0, customers=120).value is None
    # A figure without data is no figure: no paying customers, no CLV (it once showed "5068 · n=0").
    assert d.clv(20, 0.4, 0.02, customers=0).value is None


def test_a_change_is_significant_only_when_the_interval_says_so():
    before = d.nps({10: 300, 9: 100, 8: 300, 6: 300})  # NPS 10, n=1000
    after_small_move = d.nps({10: 320, 9: 100, 8: 290, 6: 290})  # NPS 13
    after_big_move = d.nps({10: 450, 9: 100, 8: 250, 6: 200})  # NPS 35
    assert d.difference(after_small_move, before)["significant"] is False
    result = d.difference(after_big_move, before)
    assert result["significant"] is True and result["change"] == pytest.approx(25)
    tiny = d.difference(d.nps({10: 5}), d.nps({0: 5}))  # +200 points, but n=5 each (moe 0)
    assert tiny["change"] == 200
    assert d.difference(d.nps({}), before) == {"change": None, "margin_of_error": None, "significant": False,
                                               "verdict": "same"}


def test_figure_as_dict_carries_everything_a_report_needs():
    data = d.nps({9: 10, 0: 5}).as_dict()
    assert set(data) >= {"metric", "value", "n", "skipped", "counts", "margin_of_error", "small_sample",
                         "ci_low", "ci_high"}
    assert data["small_sample"] is True
    assert data["value"] == 33  # rounded as every screen shows it (NPS in whole points)


def test_net_sentiment_worked_example_and_edges():
    fig = d.net_sentiment(positive=50, neutral=30, negative=20)
    assert fig.value == pytest.approx(30.0)  # 50% − 20%
    # Same form as the NPS margin: 1.96·√((0.5 + 0.2 − 0.3²)/100)·100 = 15.31
    assert fig.margin_of_error == pytest.approx(1.959964 * math.sqrt((0.5 + 0.2 - 0.09) / 100) * 100, abs=1e-3)
    assert fig.counts == {"positive": 50, "neutral": 30, "negative": 20} and fig.n == 100
    none = d.net_sentiment(0, 0, 0)
    assert none.value is None and none.n == 0 and none.margin_of_error is None
    assert d.net_sentiment(0, 0, 7).value == -100.0


def test_a_share_cannot_exceed_its_total():
    with pytest.raises(ValueError):
        d.rate("fcr", 5, 3)


@pytest.mark.parametrize(("metric", "value", "shown"), [
    ("ces", 4.05, 4.1), ("ces", 4.04999, 4.0), ("nps", 33.5, 34), ("nps", -33.5, -34), ("csat", 66.666, 67),
    ("churn_rate", 2.25, 2.3), ("first_response_time", 1.25, 1.3), ("nps", None, None)])
def test_one_rounding_rule_half_up_at_the_metrics_precision(metric, value, shown):
    """CES was 4.05 in the API, 4.1 on the dashboard and 4.0 in the executive summary."""
    assert d.shown(metric, value) == shown


@pytest.mark.parametrize(("metric", "change", "verdict"), [
    ("nps", 5, "better"), ("nps", -5, "worse"), ("churn_rate", 1.5, "worse"), ("churn_rate", -1.5, "better"),
    ("first_response_time", -2, "better"), ("responses", 40, "same"), ("nps", 0, "same")])
def test_a_change_is_read_in_the_metrics_direction(metric, change, verdict):
    """A rising churn rate was drawn green ("▲ significant change")."""
    assert d.judged(metric, {"change": change, "significant": True}) == verdict
    assert d.judged(metric, {"change": change, "significant": False}) == "same"
