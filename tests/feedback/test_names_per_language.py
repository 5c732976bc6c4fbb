"""Tags and root causes are named in each of the organization's languages and shown in the
reader's: their own language when the row has a name in it, else the organization's default
language, else the row's own `name`."""

import pytest

from cxplatform.models import Role
from feedback.models import FeedbackItem, RootCause, Tag
from feedback.services import ensure_default_tags
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(org_a, make_member, client_for):
    return client_for(make_member(org_a, Role.AGENT))


@pytest.fixture
def named(org_a):
    """A tag named in all three languages, one named only in Latvian (the organization's default)
    and one with no names but its own; a resolved case with a named root cause."""
    org_a.default_language = "lv"
    org_a.save()
    complaint = Tag.objects.create(organization=org_a, name="complaint",
                                   names={"en": "complaint", "ru": "жалоба", "lv": "sūdzība"})
    latvian_only = Tag.objects.create(organization=org_a, name="slow-answer", names={"lv": "lēna atbilde"})
    bare = Tag.objects.create(organization=org_a, name="vip")
    delivery = RootCause.objects.create(organization=org_a, name="Delivery",
                                        names={"en": "Delivery", "ru": "Доставка", "lv": "Piegāde"})
    late = RootCause.objects.create(organization=org_a, name="Late", parent=delivery,
                                    names={"en": "Late", "ru": "Опоздание", "lv": "Kavēšanās"})
    item = factories.feedback_item(org_a, text="The scooter came a week late", root_cause=late,
                                   status=FeedbackItem.Status.RESOLVED, kind=FeedbackItem.Kind.CASE)
    item.tags.set([complaint, latvian_only, bare])
    return item


@pytest.mark.parametrize(("language", "shown", "not_shown"), [
    ("ru", ["жалоба", "lēna atbilde", "vip"], ["sūdzība", "slow-answer"]),
    ("en", ["complaint", "lēna atbilde", "vip"], ["жалоба", "slow-answer"]),
    ("lv", ["sūdzība", "lēna atbilde", "vip"], ["жалоба", "slow-answer"]),
])
def test_the_inbox_shows_tags_in_the_readers_language(agent, named, language, shown, not_shown):
    body = agent.get("/inbox/?view=all", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert named.text in body
    for name in shown:
        assert f'<span class="badge tag">{name}</span>' in body
    for name in not_shown:
        assert f'<span class="badge tag">{name}</span>' not in body


@pytest.mark.parametrize(("language", "tag", "cause"), [
    ("ru", "жалоба", "Доставка → Опоздание"),
    ("lv", "sūdzība", "Piegāde → Kavēšanās"),
    ("en", "complaint", "Delivery → Late"),
])
def test_the_item_page_shows_tags_and_root_cause_in_the_readers_language(agent, named, language, tag, cause):
    body = agent.get(f"/inbox/items/{named.pk}/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert f'<span class="badge tag">{tag}</span>' in body
    assert '<span class="badge tag">lēna atbilde</span>' in body  # no name in the reader's: the default's
    assert cause in body
    # The tag filter and triage offer the same names.
    assert f">{tag}</option>" in body


def test_the_filter_keeps_the_tags_own_name_as_its_value(agent, named):
    body = agent.get("/inbox/?view=all", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert '<option value="complaint">жалоба</option>' in body
    filtered = agent.get("/inbox/?view=all&tag=complaint", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert named.text in filtered


def test_without_a_name_in_either_language_the_own_name_is_shown(org_a, named):
    org_a.default_language = "en"
    org_a.save()  # the cached default language is forgotten
    tag = Tag.objects.get(name="slow-answer")
    from django.utils import translation

    with translation.override("ru"):
        assert tag.shown_name == "slow-answer"
    with translation.override("lv"):
        assert tag.shown_name == "lēna atbilde"


def test_the_api_gives_the_name_in_the_requests_language_and_every_name(agent, named):
    item = agent.get(f"/api/v1/feedback/items/{named.pk}/", HTTP_ACCEPT_LANGUAGE="ru").json()
    assert item["tags"] == ["complaint", "slow-answer", "vip"]  # the own names, as triage takes them
    assert sorted(item["tag_names"]) == sorted(["жалоба", "lēna atbilde", "vip"])
    assert item["root_cause_name"] == "Доставка → Опоздание"
    tags = {t["default_name"]: t for t in agent.get("/api/v1/feedback/tags/", HTTP_ACCEPT_LANGUAGE="lv").json()[
        "results"]}
    assert tags["complaint"]["name"] == "sūdzība"
    assert tags["complaint"]["names"] == {"en": "complaint", "ru": "жалоба", "lv": "sūdzība"}
    assert tags["vip"]["name"] == "vip" and tags["vip"]["names"] == {}
    causes = agent.get("/api/v1/feedback/root-causes/", HTTP_ACCEPT_LANGUAGE="en").json()["results"]
    assert {c["name"] for c in causes} == {"Delivery", "Late"}


def test_a_tag_is_created_with_its_names_and_bad_names_are_refused(org_a, make_member, client_for):
    manager = client_for(make_member(org_a, Role.CX_MANAGER))
    created = manager.post("/api/v1/feedback/tags/", {"name": "refund", "names": {"lv": "atmaksa", "ru": "возврат"}},
                           content_type="application/json", HTTP_ACCEPT_LANGUAGE="ru")
    assert created.status_code == 201, created.content
    assert created.json()["name"] == "возврат"
    assert Tag.objects.get(organization=org_a, name="refund").names == {"lv": "atmaksa", "ru": "возврат"}
    refused = manager.post("/api/v1/feedback/tags/", {"name": "other", "names": {"de": "Andere"}},
                           content_type="application/json")
    assert refused.status_code == 400 and "names" in str(refused.json())
    assert not Tag.objects.filter(name="other").exists()


def test_a_manager_names_a_root_cause_and_a_tag_in_each_language_on_the_settings_page(org_a, make_member,
                                                                                      client_for):
    manager = client_for(make_member(org_a, Role.CX_MANAGER))
    form = manager.get("/inbox/settings/causes/new/", HTTP_ACCEPT_LANGUAGE="lv").content.decode()
    assert 'name="name_lv"' in form and 'name="name_ru"' in form and 'name="name_en"' in form
    answer = manager.post("/inbox/settings/causes/new/", {"name": "Battery", "name_lv": "Akumulators",
                                                           "name_ru": "Аккумулятор", "name_en": "", "active": "on"})
    assert answer.status_code == 302
    cause = RootCause.objects.get(organization=org_a, name="Battery")
    assert cause.names == {"lv": "Akumulators", "ru": "Аккумулятор"}
    page = manager.get("/inbox/settings/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Аккумулятор" in page
    answer = manager.post("/inbox/settings/tags/new/", {"name": "refund", "name_lv": "atmaksa", "name_ru": ""})
    assert answer.status_code == 302
    tag = Tag.objects.get(organization=org_a, name="refund")
    assert tag.names == {"lv": "atmaksa"}
    answer = manager.post(f"/inbox/settings/tags/{tag.pk}/", {"name": "refund", "name_ru": "возврат"})
    tag.refresh_from_db()
    assert answer.status_code == 302 and tag.names == {"ru": "возврат"}
    # The own name stays unique per organization.
    assert manager.post("/inbox/settings/tags/new/", {"name": "refund"}).status_code == 400


def test_the_seeded_tags_are_named_in_every_language(org_a):
    org_a.default_language = "lv"
    org_a.save()
    ensure_default_tags(org_a)
    complaint = Tag.objects.get(organization=org_a, names__en="complaint")
    assert complaint.name == complaint.names["lv"] == "sūdzība"
    assert complaint.names["ru"] == "жалоба"
