"""Evidence for journey pain points: inbox items and tags linked once, counted on the pain point,
and never across organizations."""

import pytest

from cxplatform.models import Role
from feedback import evidence, services
from feedback.models import PainPointEvidence, Tag
from journeys.models import PainPoint
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def pain(org_a):
    return factories.pain_point(org_a)


def _item(org, text="Курьер опоздал"):
    return services.ingest(org, services.Voice(source="email", text=text))[0]


def test_items_and_tags_back_a_pain_point_once(org_a, pain):
    late, rude = _item(org_a), _item(org_a, "Курьер нагрубил")
    resolved = _item(org_a, "Опять опоздал")
    complaint = Tag.objects.get(organization=org_a, name="complaint")
    rude.tags.add(complaint)
    resolved.tags.add(complaint)
    late.tags.add(complaint)
    services.triage(resolved, None, resolved.version, status="resolved")
    _first, created = evidence.link(pain, None, item=late)
    _again, created_again = evidence.link(pain, None, item=late)
    evidence.link(pain, None, tag=complaint)
    assert created and not created_again and PainPointEvidence.objects.count() == 2
    summary = evidence.summary(pain)
    assert summary["count"] == 3 and summary["open"] == 2  # late counted once, by item and by tag
    assert [(t.name, t.items_count) for t in summary["tags"]] == [("complaint", 3)]


def test_evidence_never_crosses_organizations(org_a, org_b, pain):
    with pytest.raises(evidence.EvidenceError):
        evidence.link(pain, None, item=_item(org_b))
    with pytest.raises(evidence.EvidenceError):
        evidence.link(pain, None)


def test_link_and_unlink_from_the_item_page(org_a, org_b, pain, make_member, client_for):
    item = _item(org_a)
    agent = client_for(make_member(org_a, Role.AGENT))
    assert agent.post(f"/inbox/items/{item.pk}/evidence/", {"pain_point": pain.pk}).status_code == 302
    link = PainPointEvidence.objects.get()
    assert link.item == item and link.pain_point == pain
    page = agent.get(f"/inbox/items/{item.pk}/").content.decode()
    assert str(pain) in page
    foreign = factories.pain_point(org_b)
    answer = agent.post(f"/inbox/items/{item.pk}/evidence/", {"pain_point": foreign.pk}, follow=True)
    assert "Choose one of the open pain points" in answer.content.decode()
    PainPoint.objects.filter(pk=pain.pk).update(status="resolved")  # a resolved pain takes no new evidence
    agent.post(f"/inbox/items/{item.pk}/evidence/", {"pain_point": pain.pk})
    assert PainPointEvidence.objects.count() == 1
    agent.post(f"/inbox/evidence/{link.pk}/delete/", {"next": f"/inbox/items/{item.pk}/"})
    assert not PainPointEvidence.objects.exists()


def test_the_item_page_preselects_no_pain_point(org_a, pain, make_member, client_for):
    """A pain point pre-selected on every item got linked by a hurried click; nothing is chosen
    until the agent chooses, and a post without a choice links nothing."""
    import re

    factories.pain_point(org_a)
    item = _item(org_a)
    agent = client_for(make_member(org_a, Role.AGENT))
    page = agent.get(f"/inbox/items/{item.pk}/").content.decode()
    select = re.search(r'<select name="pain_point"[^>]*>(.*?)</select>', page, re.S)
    assert select and "required" in select.group(0)
    selected = re.findall(r'<option value="([^"]*)"[^>]*selected', select.group(1))
    assert selected == [""]
    answer = agent.post(f"/inbox/items/{item.pk}/evidence/", {"pain_point": ""}, follow=True)
    assert "Choose one of the open pain points" in answer.content.decode()
    assert not PainPointEvidence.objects.exists()


def test_the_pain_point_fragment(org_a, pain, make_member, client_for):
    item = _item(org_a, '<script>alert(1)</script> late again')
    evidence.link(pain, None, item=item)
    praise = Tag.objects.get(organization=org_a, name="praise")
    viewer = client_for(make_member(org_a, Role.VIEWER))
    body = viewer.get(f"/inbox/pain-points/{pain.pk}/evidence/").content.decode()
    assert "1 customer voice" in body and "&lt;script&gt;" in body and "<script>alert" not in body
    assert "<form" not in body  # a viewer reads, does not link
    assert viewer.post(f"/inbox/pain-points/{pain.pk}/evidence/", {"tag": praise.pk}).status_code == 403
    agent = client_for(make_member(org_a, Role.AGENT))
    assert agent.post(f"/inbox/pain-points/{pain.pk}/evidence/", {"tag": ""}).status_code == 400
    answer = agent.post(f"/inbox/pain-points/{pain.pk}/evidence/", {"tag": praise.pk})
    assert answer.status_code == 200 and "praise (0)" in answer.content.decode()
    assert PainPointEvidence.objects.filter(tag=praise).count() == 1
