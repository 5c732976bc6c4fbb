"""An organization's edits of its comment themes through /metrics/themes/settings/: rename, merge,
hide and the undo of each, applied by the catalog when figures are read (docs/adr/0032)."""

import pytest

from cxplatform.models import AuditEntry, Role, ThemeSetting
from cxplatform.theme_catalog import ThemeCatalog, catalog_for
from surveys.models import ResponseTheme
from tests import factories
from tests.cxplatform.test_tenancy import org_rows

pytestmark = pytest.mark.django_db

URL = "/metrics/themes/settings/"


def _themes(org, *phrases_per_response):
    link = factories.distribution(org, factories.survey(org, "nps"))
    for phrases in phrases_per_response:
        response = factories.response(org, link, score=5, comment=" ".join(phrases), language="ru")
        for phrase in phrases:
            ResponseTheme.objects.create(organization=org, response=response, phrase=phrase, sentiment=-1)


@pytest.fixture
def themed(org_a):
    _themes(org_a, ["delivery", "курьер"], ["delivery"], ["доставочка"], ["курьер", "app"], ["шлагбаум"])
    return org_a


@pytest.fixture
def admin(themed, make_member, client_for):
    return client_for(make_member(themed, Role.ADMIN))


def _post(client, **data):
    return client.post(URL, data, HTTP_HX_REQUEST="true")


def _setting_rows(org):
    return sorted(ThemeSetting.objects.filter(organization=org).values_list("theme", "label", "hidden", "merged_into"))


def test_the_page_lists_the_themes_with_their_mentions_and_names_in_the_readers_language(admin, themed):
    page = admin.get(URL)
    assert page.status_code == 200
    rows = {row["theme"]: row for row in page.context["rows"]}
    assert (rows["delivery"]["mentions"], rows["delivery"]["concept"]) == (2, True)
    assert (rows["шлагбаум"]["mentions"], rows["шлагбаум"]["concept"]) == (1, False)
    assert rows["delivery"]["label"] == "Delivery"
    assert 'list="theme-targets"' in page.content.decode()
    russian = admin.get(URL, HTTP_ACCEPT_LANGUAGE="ru")
    assert {row["theme"]: row for row in russian.context["rows"]}["delivery"]["label"] == "Доставка"


def test_rename_applies_to_every_language_and_is_undone(admin, themed):
    answer = _post(admin, action="rename", theme="delivery", label="  Home   delivery ")
    assert answer.status_code == 200
    assert catalog_for(themed).label("delivery", "ru") == "Home delivery"
    assert catalog_for(themed).label("delivery", "lv") == "Home delivery"
    assert "Home delivery" in answer.content.decode()
    entry = AuditEntry.objects.filter(organization=themed, action="settings.changed").latest("id")
    assert entry.details["setting"] == "cxplatform.themesetting"
    assert entry.details["changes"]["label"] == ["", "Home delivery"]
    # Undo: an empty name gives the concept its own name back, and no row is left over.
    assert _post(admin, action="rename", theme="delivery", label="").status_code == 200
    assert catalog_for(themed).label("delivery", "ru") == "Доставка"
    assert not ThemeSetting.objects.filter(organization=themed).exists()
    assert AuditEntry.objects.filter(organization=themed, action="settings.changed").count() == 2


def test_merge_counts_a_theme_under_another_and_is_undone(admin, themed):
    assert _post(admin, action="merge", theme="доставочка", into="delivery").status_code == 200
    catalog = catalog_for(themed)
    assert catalog.canonical("доставочка") == "delivery"
    assert catalog.canonical("delivery") == "delivery"
    rows = {row["theme"]: row for row in admin.get(URL).context["rows"]}
    assert rows["delivery"]["merged_mentions"] == 1
    assert rows["доставочка"]["merged_label"] == "Delivery"
    assert _post(admin, action="unmerge", theme="доставочка").status_code == 200
    assert catalog_for(themed).canonical("доставочка") == "доставочка"
    assert _setting_rows(themed) == []


def test_hide_leaves_a_theme_and_what_is_merged_into_it_out_and_is_undone(admin, themed):
    _post(admin, action="merge", theme="доставочка", into="delivery")
    assert _post(admin, action="hide", theme="delivery").status_code == 200
    catalog = catalog_for(themed)
    assert catalog.canonical("delivery") is None and catalog.canonical("доставочка") is None
    assert catalog.canonical("app") == "app"
    _post(admin, action="unhide", theme="delivery")
    assert catalog_for(themed).canonical("доставочка") == "delivery"


def test_a_plain_form_post_redirects_back_with_a_message(admin, themed):
    answer = admin.post(URL, {"action": "hide", "theme": "шлагбаум"})
    assert answer.status_code == 302 and answer["Location"] == URL
    assert catalog_for(themed).canonical("шлагбаум") is None


@pytest.mark.parametrize(("data", "message"), [
    ({"action": "merge", "theme": "delivery", "into": "delivery"}, "cannot be merged into itself"),
    ({"action": "merge", "theme": "delivery", "into": ""}, "Choose the theme to merge into"),
    ({"action": "merge", "theme": "delivery", "into": "no such theme"}, "There is no theme “no such theme”"),
    ({"action": "merge", "theme": "no such theme", "into": "delivery"}, "There is no theme “no such theme”"),
    ({"action": "hide", "theme": "no such theme"}, "There is no theme"),
    ({"action": "rename", "theme": "delivery", "label": "x" * 81}, "at most 80 characters"),
    ({"action": "rename", "theme": "", "label": "x"}, "Choose a theme"),
    ({"action": "explode", "theme": "delivery"}, "Select a valid choice"),
    ({"action": "hide", "theme": "x" * 500}, "Ensure this value has at most 80 characters"),
])
def test_bad_edits_are_refused_with_a_reason_and_change_nothing(admin, themed, data, message):
    _post(admin, action="rename", theme="app", label="Our app")
    before, audits = org_rows(themed), AuditEntry.objects.count()
    answer = _post(admin, **data)
    assert answer.status_code == 422
    assert message in answer.content.decode()
    assert 'id="theme-settings-error"' in answer.content.decode()
    assert org_rows(themed) == before and AuditEntry.objects.count() == audits


def test_chains_and_circles_are_refused(admin, themed):
    assert _post(admin, action="merge", theme="доставочка", into="delivery").status_code == 200
    before = _setting_rows(themed)
    circle = _post(admin, action="merge", theme="delivery", into="доставочка")
    assert circle.status_code == 422 and "would make a circle" in circle.content.decode()
    onward = _post(admin, action="merge", theme="courier", into="доставочка")
    assert onward.status_code == 422 and "merge into “Delivery” instead" in onward.content.decode()
    target = _post(admin, action="merge", theme="delivery", into="app")
    assert target.status_code == 422 and "Other themes are merged into “Delivery”" in target.content.decode()
    assert _setting_rows(themed) == before


def test_a_concept_nobody_mentioned_yet_can_be_a_target(admin, themed):
    assert _post(admin, action="merge", theme="шлагбаум", into="parking").status_code == 200
    assert catalog_for(themed).canonical("шлагбаум") == "parking"
    targets = dict(admin.get(URL).context["targets"])
    assert targets["parking"] == "Car park" and "шлагбаум" not in targets  # a merged theme is no target


@pytest.mark.parametrize("role", [Role.AGENT, Role.VIEWER])
def test_agents_and_viewers_may_not_edit_themes(themed, make_member, client_for, role):
    client = client_for(make_member(themed, role))
    assert client.get(URL).status_code == 403
    assert _post(client, action="hide", theme="delivery").status_code == 403
    assert not ThemeSetting.objects.exists()


def test_a_cx_manager_may(themed, make_member, client_for):
    client = client_for(make_member(themed, Role.CX_MANAGER))
    assert client.get(URL).status_code == 200
    assert _post(client, action="hide", theme="delivery").status_code == 200


def test_another_organizations_themes_are_neither_listed_nor_editable(admin, themed, org_b, make_member, client_for):
    _themes(org_b, ["кассирша"], ["кассирша"])
    ThemeSetting.objects.create(organization=org_b, theme="delivery", label="Beta's delivery")
    rows = {row["theme"] for row in admin.get(URL).context["rows"]}
    assert "кассирша" not in rows
    assert catalog_for(themed).label("delivery", "en") == "Delivery"
    before = org_rows(org_b)
    foreign = _post(admin, action="hide", theme="кассирша")
    missing = _post(admin, action="hide", theme="кассирьша")
    # Another organization's phrase answers exactly like one nobody wrote: ids leak nothing.
    assert foreign.status_code == missing.status_code == 422
    def reason(answer, phrase):
        return answer.content.decode().split('id="theme-settings-error">')[1].split("<")[0].replace(phrase, "X")

    assert reason(foreign, "кассирша") == reason(missing, "кассирьша")
    assert reason(missing, "кассирьша") == "There is no theme “X” in this organization&#x27;s comments."
    _post(admin, action="merge", theme="app", into="кассирша")
    assert org_rows(org_b) == before and not ThemeSetting.objects.filter(organization=themed).exists()
    # Beta's own edit stays Beta's.
    assert catalog_for(org_b).label("delivery", "en") == "Beta's delivery"


def test_the_dashboard_links_to_the_page_for_those_allowed(themed, make_member, client_for):
    for role, linked in ((Role.ADMIN, True), (Role.CX_MANAGER, True), (Role.VIEWER, False), (Role.AGENT, False)):
        fragment = client_for(make_member(themed, role)).get("/metrics/themes/")
        assert (URL in fragment.content.decode()) is linked, role


def test_the_catalog_resolves_merges_hides_and_names():
    catalog = ThemeCatalog(merged_into={"доставочка": "delivery", "loop": "loop"}, hidden=frozenset({"app"}),
                           renamed={"courier": "Our couriers"})
    assert catalog.canonical("доставочка") == "delivery"
    assert catalog.canonical("app") is None
    assert catalog.canonical("loop") == "loop"  # a circle never hangs the reader
    assert catalog.label("courier", "ru") == "Our couriers"
    assert catalog.label("delivery", "lv") == "Piegāde"
    assert catalog.label("шлагбаум", "en") == "шлагбаум"
