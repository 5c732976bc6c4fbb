"""The inbox list: full-text search in Russian and English word forms, and keyset pages that
neither skip nor repeat an item."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cxplatform.models import Role
from feedback import services

pytestmark = pytest.mark.django_db


def _item(org, text, minutes_ago=0):
    moment = timezone.now() - timedelta(minutes=minutes_ago)
    return services.ingest(org, services.Voice(source="email", text=text, received_at=moment))[0]


def test_search_finds_word_forms_in_russian_and_english(org_a, org_b, make_member, client_for):
    late = _item(org_a, "Курьер опоздал с доставкой на два дня")
    refund = _item(org_a, "Still waiting for my refunds")
    _item(org_a, "Отличный самокат")
    _item(org_b, "Доставка опоздала")  # another organization's
    client = client_for(make_member(org_a, Role.AGENT))
    for words, expected in (("доставка", [late.pk]), ("опоздание курьера", []), ("курьеры", [late.pk]),
                            ("refund", [refund.pk]), ("waited", [refund.pk])):
        rows = client.get("/inbox/", {"q": words}).context["rows"]
        assert [r.pk for r in rows] == expected, words


def test_keyset_pages_cover_every_item_once(org_a, make_member, client_for):
    made = [_item(org_a, f"Вопрос {i}", minutes_ago=i // 2) for i in range(120)]  # pairs share a minute
    client = client_for(make_member(org_a, Role.AGENT))
    seen, params = [], {}
    while True:
        page = client.get("/inbox/", params)
        seen += [r.pk for r in page.context["rows"]]
        if not page.context["next_cursor"]:
            break
        params = {"after": page.context["next_cursor"]}
    assert sorted(seen) == sorted(i.pk for i in made) and len(seen) == len(set(seen))
    assert client.get("/inbox/", {"after": "garbage"}).status_code == 200  # a bad cursor starts over
