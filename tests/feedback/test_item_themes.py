"""Inbox items get sentiment and themes like survey comments (issue 18): read by the ITEM_RECEIVED
worker before the routing rules run, read again when the source changes the text (the last text
wins, nothing doubles), shown on the item through the organization's theme catalog, and the inbox
filters by theme, merged keys included."""

import pytest
from django.utils import timezone

from cxplatform import events
from cxplatform.models import OutboxEvent, Role
from cxplatform.textinsight.reading import read
from cxplatform.theme_catalog import ThemeCatalog
from feedback import selectors, services
from feedback.models import FeedbackItem, ItemTheme, RoutingRule

pytestmark = pytest.mark.django_db

# A contrast: praise for one theme, a complaint about another.
MIXED = "Доставка быстрая, но приложение постоянно падает"
ANGRY = "Курьер опоздал и нагрубил, ужасный сервис"
GLAD = "Отличный самокат, спасибо, всё понравилось"


def _ingest(org, text, source_id="", **fields):
    return services.ingest(org, services.Voice(source="email", text=text, source_id=source_id, language="ru",
                                               **fields))[0]


def _deliver(name, item):
    """A worker delivers the item's pending `name` events, oldest first."""
    pending = list(OutboxEvent.objects.filter(name=name, payload__item_id=item.pk, status="pending")
                   .order_by("pk").values_list("pk", flat=True))
    assert pending, f"no pending {name} for item {item.pk}"
    for pk in pending:
        events.deliver(pk)


def _themes(item) -> dict[str, int | None]:
    return dict(ItemTheme.objects.filter(item=item).values_list("key", "sentiment"))


@pytest.fixture
def catalog(monkeypatch):
    """The organization's catalog, as the theme-editing pages would leave it."""
    state = {"catalog": ThemeCatalog()}
    from feedback.views import inbox, item

    for module in (selectors, inbox, item):
        monkeypatch.setattr(module, "catalog_for", lambda organization: state["catalog"])

    def use(**edits):
        state["catalog"] = ThemeCatalog(**edits)
    return use


def test_the_worker_reads_the_item_with_each_themes_own_sentiment(org_a):
    item = _ingest(org_a, MIXED)
    assert (item.sentiment, item.text_read, _themes(item)) == (None, False, {})  # nothing read in the request

    _deliver(services.ITEM_RECEIVED, item)
    item.refresh_from_db()
    expected = read(MIXED, "ru")
    assert item.text_read and item.sentiment == expected.sentiment.value and item.language == "ru"
    themes = _themes(item)
    assert themes == expected.theme_sentiments()
    # The clause sign, not the comment's: one theme praised, another complained about.
    assert 1 in themes.values() and -1 in themes.values()
    assert set(ItemTheme.objects.filter(item=item).values_list("organization_id", flat=True)) == {org_a.pk}


def test_routing_by_sentiment_sees_what_the_worker_read(org_a):
    RoutingRule.objects.create(organization=org_a, name="Angry", position=1, sentiment=-1,
                               set_priority=FeedbackItem.Priority.URGENT)
    angry, glad = _ingest(org_a, ANGRY), _ingest(org_a, GLAD)
    for item in (angry, glad):
        _deliver(services.ITEM_RECEIVED, item)
        item.refresh_from_db()
    assert (angry.sentiment, angry.priority) == (-1, FeedbackItem.Priority.URGENT)
    assert (glad.sentiment, glad.priority) == (1, FeedbackItem.Priority.NORMAL)
    assert angry.events.filter(action="routed").count() == 1 and not glad.events.filter(action="routed").exists()


def test_a_changed_text_is_read_again_and_the_last_text_wins(org_a):
    item = _ingest(org_a, GLAD, source_id="review-1")
    _deliver(services.ITEM_RECEIVED, item)
    first_themes = _themes(item)
    assert first_themes

    _ingest(org_a, MIXED, source_id="review-1")  # the review was edited…
    _ingest(org_a, ANGRY, source_id="review-1")  # …twice, before any worker ran
    item.refresh_from_db()
    assert (item.text, item.sentiment, item.text_read, _themes(item)) == (ANGRY, None, False, {})
    assert item.events.filter(action="text_updated").count() == 2

    _deliver(services.ITEM_TEXT_CHANGED, item)  # both events: the first reads the latest text, the second finds it read
    item.refresh_from_db()
    assert item.sentiment == -1 and item.text_read
    assert _themes(item) == read(ANGRY, "ru").theme_sentiments()

    # Delivered again (at least once): nothing doubles, nothing changes.
    assert services.read_item(item_id=item.pk) is False
    assert ItemTheme.objects.filter(item=item).count() == len(read(ANGRY, "ru").theme_sentiments())


def test_the_same_text_again_changes_nothing(org_a):
    item = _ingest(org_a, ANGRY, source_id="chat-7")
    _deliver(services.ITEM_RECEIVED, item)
    before = _themes(item)
    _ingest(org_a, ANGRY, source_id="chat-7")
    item.refresh_from_db()
    assert item.text_read and _themes(item) == before
    assert not OutboxEvent.objects.filter(name=services.ITEM_TEXT_CHANGED).exists()


def test_the_item_page_shows_its_themes_through_the_catalog(org_a, org_b, make_member, client_for, catalog):
    item = services.ingest(org_a, services.Voice(source="email", text="x"))[0]
    ItemTheme.objects.bulk_create([ItemTheme(organization=org_a, item=item, key=key, sentiment=sign)
                                   for key, sign in (("доставка", 1), ("приложение", -1), ("курьер", 0))])
    catalog(renamed={"delivery": "Delivery & couriers"}, merged_into={"доставка": "delivery"},
            hidden=frozenset({"курьер"}))
    page = client_for(make_member(org_a, Role.AGENT)).get(f"/inbox/items/{item.pk}/").content.decode()
    chips = page.split('id="item-themes">')[1].split("</dd>")[0]
    assert '<span class="badge theme positive">Delivery &amp; couriers</span>' in chips
    assert '<span class="badge theme negative">приложение</span>' in chips
    assert "курьер" not in chips  # hidden by the organization
    # The list shows them too.
    listing = client_for(make_member(org_a, Role.AGENT)).get("/inbox/").content.decode()
    assert '<span class="badge theme positive">Delivery &amp; couriers</span>' in listing
    assert "badge theme neutral\">курьер" not in listing


def test_an_unread_item_says_so(org_a, make_member, client_for):
    item = _ingest(org_a, ANGRY)
    page = client_for(make_member(org_a, Role.AGENT)).get(f"/inbox/items/{item.pk}/").content.decode()
    assert "being read" in page.split('id="item-themes">')[1].split("</dd>")[0]


def test_the_inbox_filters_by_theme_with_merged_keys(org_a, org_b, make_member, client_for, catalog):
    def item_with(org, *keys):
        item = services.ingest(org, services.Voice(source="email", text=f"item {keys}"))[0]
        ItemTheme.objects.bulk_create([ItemTheme(organization=org, item=item, key=key, sentiment=-1) for key in keys])
        return item

    russian, english, app, nothing = (item_with(org_a, "доставка"), item_with(org_a, "delivery", "app"),
                                      item_with(org_a, "app"), item_with(org_a))
    foreign = item_with(org_b, "доставка", "secret-theme")
    catalog(merged_into={"доставка": "delivery"}, hidden=frozenset({"hidden-one"}))
    client = client_for(make_member(org_a, Role.AGENT))

    def listed(query):
        page = client.get("/inbox/", {"view": "all", **query})
        assert page.status_code == 200
        return {pk for pk in (russian.pk, english.pk, app.pk, nothing.pk, foreign.pk)
                if f'data-item="{pk}"' in page.content.decode()}

    assert listed({"theme": "delivery"}) == {russian.pk, english.pk}  # "доставка" merged into it
    assert listed({"theme": "app"}) == {english.pk, app.pk}
    assert listed({"theme": "no-such-theme"}) == {russian.pk, english.pk, app.pk, nothing.pk}  # ignored
    assert listed({"theme": "secret-theme"}) == {russian.pk, english.pk, app.pk, nothing.pk}  # another org's
    # The filter offers the organization's themes after merges, and no other organization's.
    page = client.get("/inbox/").content.decode()
    assert '<option value="delivery">' in page and '<option value="app">' in page
    assert '<option value="доставка">' not in page and "secret-theme" not in page
    # A merged key itself selects nothing on its own: it counts under the theme it was merged into.
    assert selectors.keys_under("доставка", ThemeCatalog(merged_into={"доставка": "delivery"})) == set()
    assert selectors.with_theme(FeedbackItem.objects.filter(organization=org_a), "delivery",
                                ThemeCatalog()).get() == english


def test_demo_items_are_read(org_a):
    from feedback import demo

    item = FeedbackItem.objects.create(organization=org_a, source="review", text=ANGRY, language="ru",
                                       received_at=timezone.now())  # bulk-loaded, like the demo's survey comments
    demo._read_texts(org_a)
    item.refresh_from_db()
    assert item.text_read and item.sentiment == -1 and _themes(item) == read(ANGRY, "ru").theme_sentiments()


def test_the_item_is_read_before_the_other_subscribers_of_its_arrival_see_it(org_a):
    # Deliveries of one event run in subscription order: the outgoing `feedback.created` webhook
    # (integrations) builds its payload after the inbox read the item, so it carries the sentiment.
    subscribers = list(events.subscribers_of(services.ITEM_RECEIVED))
    assert subscribers[0] == "feedback.routing"
    assert any(key.startswith("integrations.") for key in subscribers[1:])
