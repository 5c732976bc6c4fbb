"""An agent triages in a real browser: filter and search the list, move with the keyboard, take an
item, open it, tag, assign, note and resolve it — and a reply goes out by e-mail."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from cxplatform.models import Customer, Membership, Organization, Role
from feedback import services
from feedback.models import FeedbackItem, Team

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

PASSWORD = "x-pass-123456"


@pytest.fixture
def inbox(django_user_model):
    org = Organization.objects.create(name="VoltRide", slug="voltride-browser")
    agent = django_user_model.objects.create_user("laura", password=PASSWORD, first_name="Laura",
                                                  last_name="Kalniņa", email="laura@example.com")
    colleague = django_user_model.objects.create_user("dmitrij", password=PASSWORD, first_name="Dmitrij")
    for user in (agent, colleague):
        Membership.objects.create(user=user, organization=org, role=Role.AGENT)
    team = Team.objects.create(organization=org, name="Delivery team")
    team.members.add(agent, colleague)
    customer = Customer.objects.create(organization=org, name="Ольга Козлова", email="olga@example.ru",
                                       language="ru")
    now = timezone.now()
    late = services.ingest(org, services.Voice(source="email", text="Курьер опоздал с доставкой на два дня",
                                               customer=customer, received_at=now - timedelta(hours=3)))[0]
    for n, text in enumerate(["Отличный самокат, спасибо!", "The app will not pair with my scooter",
                              "Where is my refund?", '<img src=x onerror="alert(1)"> Доставка не пришла']):
        services.ingest(org, services.Voice(source="review" if n % 2 else "chat", text=text,
                                            received_at=now - timedelta(hours=5 + n)))
    return {"org": org, "agent": agent, "late": late, "team": team}


def _login(page, live_server):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "laura")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")


def test_an_agent_triages_an_item(live_server, page, artifact, inbox):
    alerts = []
    page.on("dialog", lambda dialog: (alerts.append(dialog.message), dialog.dismiss()))
    _login(page, live_server)
    page.goto(f"{live_server.url}/inbox/")
    assert page.locator("#inbox tbody tr[data-item]").count() == 5
    expect(page.locator("#view-open .count")).to_have_text("5")  # loaded after the list

    # Filter: e-mails only, and a search in another word form than the text's.
    page.select_option("#id_source", "email")
    page.fill("#id_q", "доставка")
    page.click("#inbox-filters button[type=submit]")
    page.wait_for_url(lambda url: "q=" in url and "source=email" in url)
    rows = page.locator("#inbox tbody tr[data-item]")
    assert rows.count() == 1 and "Курьер опоздал" in rows.first.inner_text()

    # The keyboard: j moves to the row, a assigns it to me at once.
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("j")
    assert "current" in (rows.first.get_attribute("class") or "")
    with page.expect_navigation():
        page.keyboard.press("a")
    assert "1 item updated." in page.locator(".messages").inner_text()
    assert "Laura Kalniņa" in page.locator("#inbox tbody tr[data-item] td.assignee").first.inner_text()
    expect(page.locator("#view-mine .count")).to_have_text("1")

    # Open it (o), then tag, reassign to the team and prioritise in one save.
    page.keyboard.press("j")
    with page.expect_navigation():
        page.keyboard.press("o")
    assert page.url.endswith(f"/inbox/items/{inbox['late'].pk}/")
    assert "Ольга Козлова" in page.locator("#customer-profile").inner_text()
    page.select_option("#id_tags", label="complaint")
    page.select_option("#id_team", label="Delivery team")
    page.select_option("#id_priority", "2")
    with page.expect_navigation():
        page.click("#triage-save")
    assert "complaint" in page.locator("#item-tags").inner_text()
    assert "Delivery team" in page.locator("#item-assignee").inner_text()

    # A note for a colleague, then a reply to the customer that resolves the item.
    page.fill("#id_text", "@dmitrij the courier company owes us an explanation")
    with page.expect_navigation():
        page.click("#note-add")
    assert "owes us an explanation" in page.locator("#notes").inner_text()
    page.fill("#id_reply_text", "Ольга, простите за опоздание. Следующий сервис — за наш счёт.")
    page.select_option("#id_reply_status", "resolved")
    with page.expect_navigation():
        page.click("#reply-form button[type=submit]")
    assert "olga@example.ru" in page.locator(".messages").inner_text()
    page.screenshot(path=artifact("inbox-item-resolved.png"), full_page=True)

    item = FeedbackItem.objects.get(pk=inbox["late"].pk)
    assert item.status == "resolved" and item.resolved_at is not None and item.first_responded_at is not None
    assert item.assignee == inbox["agent"] and item.team == inbox["team"] and item.priority == 2
    assert [t.name for t in item.tags.all()] == ["complaint"]
    assert item.notes.get().mentions.get().username == "dmitrij"
    assert item.messages.get().status == "sent" and mail.outbox[-1].to == ["olga@example.ru"]
    assert [e.action for e in item.events.all()][-4:] == ["triaged", "triaged", "noted", "replied"]

    # Back in the list, the resolved item has left the open view; customer text stayed inert.
    page.goto(f"{live_server.url}/inbox/")
    assert page.locator("#inbox tbody tr[data-item]").count() == 4
    expect(page.locator("#view-mine .count")).to_have_text("0")
    page.screenshot(path=artifact("inbox-list.png"), full_page=True)
    assert alerts == []
