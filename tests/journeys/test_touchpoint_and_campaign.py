"""The touchpoint page and campaign readiness: journeys data on the page, figures, surveys and
comments loaded as fragments from the apps above journeys."""

import pytest

from cxplatform.models import Role
from journeys import services
from metrics.services import reconcile_recent
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader(org_a, make_member, client_for):
    return client_for(make_member(org_a, Role.VIEWER))


@pytest.fixture
def board(journey_map, manager, org_a):
    """Checkout and Delivery on Purchase, Onboarding on Use; Delivery hurts (critical), and
    Onboarding has a resolved pain point only."""
    purchase, use = journey_map.stages.get(name="Purchase"), journey_map.stages.get(name="Use")
    tps = {
        "checkout": services.add_touchpoint(purchase, "Checkout", manager, department="E-commerce"),
        "delivery": services.add_touchpoint(purchase, "Delivery", manager),
        "onboarding": services.add_touchpoint(use, "Onboarding", manager),
    }
    services.add_pain_point(journey_map, "Courier <i>late</i>", manager, severity=4, touchpoint=tps["delivery"])
    services.add_pain_point(journey_map, "Pairing fails", manager, severity=3, touchpoint=tps["onboarding"],
                            status="resolved")
    return tps


def test_touchpoint_page_shows_facts_open_pain_points_and_loads_the_rest(reader, board, journey_map):
    delivery = board["delivery"]
    page = reader.get(f"/journeys/touchpoints/{delivery.pk}/").content.decode()
    assert "Scooter purchase" in page and "Purchase" in page and "Urban commuter" in page
    assert "Courier &lt;i&gt;late&lt;/i&gt;" in page and "Critical" in page
    assert f'hx-get="/surveys/touchpoints/{delivery.pk}/surveys/"' in page
    assert f'hx-get="/metrics/touchpoints/{delivery.pk}/comments/"' in page
    assert f'hx-get="/actions/touchpoints/{delivery.pk}/"' in page
    for pain in delivery.pain_points.filter(status="open"):  # each open pain point's evidence, from the inbox
        assert f'hx-get="/inbox/pain-points/{pain.pk}/evidence/"' in page
    assert delivery.pain_points.filter(status="open").exists()
    onboarding = reader.get(f"/journeys/touchpoints/{board['onboarding'].pk}/").content.decode()
    assert "Pairing fails" not in onboarding and "No open pain point here." in onboarding


def test_the_board_links_each_touchpoint_to_its_page(reader, board, journey_map):
    page = reader.get(f"/journeys/maps/{journey_map.pk}/").content.decode()
    for tp in board.values():
        assert f'href="/journeys/touchpoints/{tp.pk}/"' in page


def test_surveys_fragment_counts_completed_responses_per_link(reader, board, org_a):
    checkout = board["checkout"]
    link = factories.distribution(org_a, factories.survey(org_a, "csat"), touchpoint=checkout)
    other = factories.distribution(org_a, touchpoint=board["delivery"])
    for score in (5, 4):
        factories.response(org_a, link, score=score)
    factories.response(org_a, link, score=None, status="started", submitted_at=None)  # not completed
    factories.response(org_a, other, score=9)
    imported = factories.response(org_a, link, score=3)
    imported.distribution = None
    imported.save()

    fragment = reader.get(f"/surveys/touchpoints/{checkout.pk}/surveys/")
    assert fragment.status_code == 200
    body = fragment.content.decode()
    assert "<html" not in body and link.name in body and other.name not in body
    assert fragment.context["links"][0].completed == 2
    assert fragment.context["unlinked"] == 1 and "And 1 completed answer without a link" in body


def test_comments_fragment_lists_this_touchpoints_comments_with_sentiment(reader, board, org_a):
    link = factories.distribution(org_a, factories.survey(org_a, "nps"), touchpoint=board["delivery"])
    factories.response(org_a, link, score=1, comment="The courier was <b>late</b>", sentiment=-1)
    factories.response(org_a, link, score=10, comment="Great scooter", sentiment=1)
    factories.response(org_a, link, score=8, comment="")
    factories.response(org_a, factories.distribution(org_a, touchpoint=board["checkout"]), score=9,
                       comment="Checkout was fine", sentiment=1)
    reconcile_recent(days=2)

    fragment = reader.get(f"/metrics/touchpoints/{board['delivery'].pk}/comments/")
    body = fragment.content.decode()
    assert [r.comment for r in fragment.context["comments"]] == ["Great scooter", "The courier was <b>late</b>"]
    assert "The courier was &lt;b&gt;late&lt;/b&gt;" in body and "Checkout was fine" not in body
    assert 'class="comment negative"' in body and 'class="comment positive"' in body
    assert fragment.context["sentiment"].n == 2 and fragment.context["sentiment"].value == 0


def test_campaign_page_keeps_the_choice_in_the_url_in_journey_order(reader, board):
    ids = [board["onboarding"].pk, board["checkout"].pk, board["delivery"].pk]
    query = "&".join(f"touchpoint={pk}" for pk in ids) + "&name=Spring+sale"
    response = reader.get(f"/journeys/campaign-readiness/?{query}")
    assert response.status_code == 200
    assert [s["touchpoint"].name for s in response.context["steps"]] == ["Checkout", "Delivery", "Onboarding"]
    body = response.content.decode()
    assert f'hx-get="/metrics/campaign-readiness/?{query.replace("&", "&amp;")}"' in body
    assert body.count('checked') == 3 and "<h2>Spring sale</h2>" in body
    assert "Courier &lt;i&gt;late&lt;/i&gt;" in body and "Pairing fails" not in body
    for pk in ids:
        assert f'id="readiness-{pk}"' in body and f'id="touchpoint-actions-{pk}"' in body


def test_campaign_page_refuses_another_organizations_touchpoint(reader, board, org_b):
    foreign = factories.touchpoint(org_b)
    response = reader.get(f"/journeys/campaign-readiness/?touchpoint={board['checkout'].pk}&touchpoint={foreign.pk}")
    assert response.status_code == 400
    assert "Choose touchpoints of your organization." in response.content.decode()
    assert foreign.name not in response.content.decode() and not response.context["steps"]


def test_readiness_fragment_gives_each_touchpoint_its_verdict(reader, board, org_a):
    nps = factories.survey(org_a, "nps")
    checkout_link = factories.distribution(org_a, nps, touchpoint=board["checkout"])
    onboarding_link = factories.distribution(org_a, nps, touchpoint=board["onboarding"])
    for score in [10] * 8 + [9] * 2:
        factories.response(org_a, checkout_link, score=score)  # NPS +100: good
    for score in [10] * 3 + [2] * 7:
        factories.response(org_a, onboarding_link, score=score)  # NPS −40: below the threshold
    reconcile_recent(days=2)
    query = "&".join(f"touchpoint={t.pk}" for t in board.values())

    fragment = reader.get(f"/metrics/campaign-readiness/?{query}")
    assert fragment.status_code == 200
    verdicts = {s["touchpoint"].name: s["verdict"] for s in fragment.context["steps"]}
    assert verdicts["Checkout"].level == "green"
    assert verdicts["Delivery"].level == "red"  # no answers, but a critical pain point is open
    assert verdicts["Delivery"].reasons == ["A critical pain point is open: Courier <i>late</i>"]
    assert verdicts["Onboarding"].level == "red"
    assert verdicts["Onboarding"].reasons == ["NPS is -40, below the threshold of 0."]
    body = fragment.content.decode()
    assert f'<div id="readiness-{board["delivery"].pk}" hx-swap-oob="innerHTML">' in body
    assert "Courier &lt;i&gt;late&lt;/i&gt;" in body and "Courier <i>late</i>" not in body
    assert "Not yet: the promise cannot be kept at every step." in body
    only_checkout = reader.get(f"/metrics/campaign-readiness/?touchpoint={board['checkout'].pk}").content.decode()
    assert "The campaign's promise can be kept at every step." in only_checkout
