"""Journey map templates are written in each of our languages: a map is created in the language
the manager chooses, by default the reader's."""

import pytest

from journeys import exchange
from journeys.models import JourneyMap, PainPoint, Touchpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def designer(manager, client_for):
    return client_for(manager)


@pytest.mark.parametrize(("language", "stage", "touchpoint"), [
    ("lv", "Problēma", "Atbalsta tālrunis"),
    ("ru", "Проблема", "Горячая линия поддержки"),
    ("en", "Problem", "Support hotline"),
])
def test_a_template_creates_the_map_in_the_chosen_language(designer, persona, language, stage, touchpoint):
    # The reader reads English; the manager chooses the map's language.
    answer = designer.post("/journeys/maps/new/", {"persona": persona.pk, "template": "support-request",
                                                   "language": language}, HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 302
    journey_map = JourneyMap.objects.get(persona=persona)
    stages = list(journey_map.stages.order_by("position").values_list("name", flat=True))
    assert stages[0] == stage
    assert Touchpoint.objects.filter(stage__journey_map=journey_map, name=touchpoint).exists()
    # A pain point still finds its touchpoint: both were translated alike.
    assert PainPoint.objects.filter(journey_map=journey_map, touchpoint__name=touchpoint).exists()


def test_without_a_choice_the_map_is_in_the_readers_language(designer, persona):
    page = designer.get("/journeys/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert '<option value="ru" selected>' in page and "Обращение в поддержку" in page
    designer.post("/journeys/maps/new/", {"persona": persona.pk, "template": "ecommerce-purchase"},
                  HTTP_ACCEPT_LANGUAGE="ru")
    journey_map = JourneyMap.objects.get(persona=persona)
    assert journey_map.name == "Покупка в интернет-магазине"
    assert journey_map.stages.order_by("position").first().name == "Осведомлённость"


def test_the_default_stages_follow_the_chosen_language(designer, persona):
    designer.post("/journeys/maps/new/", {"persona": persona.pk, "name": "Pirmais skrejritenis", "language": "lv"},
                  HTTP_ACCEPT_LANGUAGE="en")
    journey_map = JourneyMap.objects.get(persona=persona)
    assert journey_map.stages.order_by("position").first().name != "Awareness"


def test_the_api_lists_and_imports_templates_in_a_language(designer, org_a):
    listed = designer.get("/api/v1/journey-maps/templates/?language=lv").json()
    support = next(t for t in listed if t["slug"] == "support-request")
    assert support["name"] == "Atbalsta pieprasījums" and support["languages"] == ["en", "lv", "ru"]
    created = designer.post("/api/v1/journey-maps/import/", {"template": "support-request", "language": "ru"},
                            content_type="application/json")
    assert created.status_code == 201, created.content
    assert created.json()["name"] == "Обращение в поддержку"
    assert created.json()["stages"][0]["name"] == "Проблема"


def test_every_text_of_every_template_has_its_translations():
    for entry in exchange.library():
        for language in ("ru", "lv"):
            english, translated = exchange.load_template(entry["slug"], "en"), exchange.load_template(
                entry["slug"], language)
            assert exchange.validate(translated) == []
            untranslated = [tp["name"] for s, s2 in zip(english["stages"], translated["stages"], strict=True)
                            for tp, tp2 in zip(s["touchpoints"], s2["touchpoints"], strict=True)
                            if tp["name"] == tp2["name"]]
            assert untranslated == [], (entry["slug"], language)
