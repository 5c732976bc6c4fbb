"""/settings/webhooks/: admins only, one organization's rows only, bad input changes nothing."""

import pytest
from django.urls import reverse

from cxplatform.audit import AuditAction
from cxplatform.models import AuditEntry, Role
from integrations.models import WebhookCall, WebhookSubscription
from tests import factories

pytestmark = pytest.mark.django_db


def urls_of(subscription, call):
    by_subscription = {"webhooksubscription_id": subscription.pk}
    return [
        ("get", reverse("integrations:webhook_detail", kwargs=by_subscription)),
        ("post", reverse("integrations:webhook_detail", kwargs=by_subscription)),
        ("post", reverse("integrations:webhook_rotate_secret", kwargs=by_subscription)),
        ("post", reverse("integrations:webhook_send_test", kwargs=by_subscription)),
        ("post", reverse("integrations:webhook_delete", kwargs=by_subscription)),
        ("post", reverse("integrations:webhook_call_resend", kwargs={"webhookcall_id": call.pk})),
    ]


def test_the_list_is_at_settings_webhooks_and_linked_from_settings(org_a, make_member, client_for):
    client = client_for(make_member(org_a, Role.ADMIN))
    assert reverse("integrations:webhook_list") == "/settings/webhooks/"
    assert "/settings/webhooks/" in client.get("/settings/").content.decode()


@pytest.mark.parametrize("role", [Role.CX_MANAGER, Role.AGENT, Role.VIEWER])
def test_only_admins_may_open_any_webhook_page(org_a, make_member, client_for, role):
    client = client_for(make_member(org_a, role))
    call = factories.webhook_call(org_a)
    pages = [("get", "/settings/webhooks/"), ("get", "/settings/webhooks/new/"),
             ("post", "/settings/webhooks/new/"), *urls_of(call.subscription, call)]
    for method, url in pages:
        assert getattr(client, method)(url).status_code == 403, (method, url)
    assert WebhookSubscription.objects.count() == 1 and not AuditEntry.objects.exists()
    assert "/settings/webhooks/" not in client.get("/settings/").content.decode()


def test_another_organizations_webhooks_answer_404_like_missing_ones(org_a, org_b, make_member, client_for):
    client = client_for(make_member(org_a, Role.ADMIN))
    theirs = factories.webhook_call(org_b)
    before = (theirs.subscription.secret, WebhookCall.objects.count())
    for method, url in urls_of(theirs.subscription, theirs):
        foreign = getattr(client, method)(url)
        missing = getattr(client, method)(url.replace(f"/{theirs.pk}/", "/999999/").replace(
            f"/{theirs.subscription.pk}/", "/999999/"))
        assert foreign.status_code == missing.status_code == 404, (method, url)
        assert foreign.content == missing.content
    theirs.subscription.refresh_from_db()
    assert (theirs.subscription.secret, WebhookCall.objects.count()) == before
    assert theirs.subscription.url not in client.get("/settings/webhooks/").content.decode()


def test_an_admin_adds_edits_tests_resends_rotates_and_removes_a_webhook(
        org_a, make_member, client_for, receiver, django_capture_on_commit_callbacks):
    client = client_for(make_member(org_a, Role.ADMIN))
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post("/settings/webhooks/new/", {
            "url": receiver.url, "events": ["response.completed", "case.opened"], "description": "CRM",
            "active": "on"})
    subscription = WebhookSubscription.objects.get()
    detail = f"/settings/webhooks/{subscription.pk}/"
    assert created.status_code == 302 and created["Location"] == detail
    assert subscription.events == ["response.completed", "case.opened"] and subscription.created_by is not None
    first = client.get(detail).content.decode()
    assert subscription.secret in first  # shown once …
    assert subscription.secret not in client.get(detail).content.decode()  # … and never again
    receiver.secret = subscription.secret

    # Send a test: a ping reaches the receiver, signed.
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"{detail}test/").status_code == 302
    ping = WebhookCall.objects.get(event="ping")
    assert ping.status == WebhookCall.Status.DELIVERED and receiver.accepted[-1].headers["X-CX-Event"] == "ping"
    page = client.get(detail).content.decode()
    assert str(ping.delivery_id) in page and "Delivered" in page

    # Resend: a new attempt with the same delivery id.
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/settings/webhooks/deliveries/{ping.pk}/resend/").status_code == 302
    ping.refresh_from_db()
    assert ping.attempts == 2 and ping.attempt_log.count() == 2
    assert [r.headers["X-CX-Delivery"] for r in receiver.received] == [str(ping.delivery_id)] * 2

    # Edit.
    assert client.post(detail, {"url": receiver.url, "events": ["goal.updated"], "description": "CRM",
                                "include_personal_data": "on", "active": "on"}).status_code == 302
    subscription.refresh_from_db()
    assert subscription.events == ["goal.updated"] and subscription.include_personal_data

    # Rotate the secret: a new one, shown once; the old one no longer signs.
    old = subscription.secret
    assert client.post(f"{detail}rotate-secret/").status_code == 302
    subscription.refresh_from_db()
    assert subscription.secret != old and subscription.secret in client.get(detail).content.decode()

    assert client.post(f"{detail}delete/").status_code == 302
    assert not WebhookSubscription.objects.exists() and not WebhookCall.objects.exists()
    actions = list(AuditEntry.objects.filter(organization=org_a).order_by("created_at", "id")
                   .values_list("action", flat=True))
    assert actions == [AuditAction.WEBHOOK_CREATED, AuditAction.WEBHOOK_CHANGED, AuditAction.WEBHOOK_CHANGED,
                       AuditAction.WEBHOOK_DELETED]
    changed = AuditEntry.objects.filter(action=AuditAction.WEBHOOK_CHANGED).order_by("id")
    assert changed[0].details["changes"]["events"] == [["response.completed", "case.opened"], ["goal.updated"]]
    assert changed[1].details == {"secret": "rotated"}
    assert old not in str(list(AuditEntry.objects.values_list("details", flat=True)))


@pytest.mark.parametrize("data, field", [
    ({"url": "not a url", "events": ["goal.updated"]}, "url"),
    ({"url": "ftp://example.com/x", "events": ["goal.updated"]}, "url"),
    ({"url": "https://example.com/x", "events": []}, "events"),
    ({"url": "https://example.com/x", "events": ["no.such.event"]}, "events"),
])
def test_bad_input_answers_400_and_changes_nothing(org_a, make_member, client_for, data, field):
    client = client_for(make_member(org_a, Role.ADMIN))
    answer = client.post("/settings/webhooks/new/", data)
    assert answer.status_code == 400
    assert answer.context["form"].errors[field]
    assert not WebhookSubscription.objects.exists() and not AuditEntry.objects.exists()
    subscription = factories.webhook_subscription(org_a)
    before = subscription.url
    assert client.post(f"/settings/webhooks/{subscription.pk}/", data).status_code == 400
    subscription.refresh_from_db()
    assert subscription.url == before and not AuditEntry.objects.exists()


def test_a_private_address_is_refused_in_production(org_a, make_member, client_for, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    client = client_for(make_member(org_a, Role.ADMIN))
    answer = client.post("/settings/webhooks/new/", {"url": "http://127.0.0.1:9000/x", "events": ["goal.updated"]})
    assert answer.status_code == 400
    assert "private network" in answer.content.decode()
    assert not WebhookSubscription.objects.exists()


def test_a_turned_off_webhook_says_why(org_a, make_member, client_for):
    from django.utils import timezone

    client = client_for(make_member(org_a, Role.ADMIN))
    subscription = factories.webhook_subscription(org_a)
    WebhookSubscription.objects.filter(pk=subscription.pk).update(active=False, disabled_at=timezone.now())
    assert "turned off after failing" in client.get("/settings/webhooks/").content.decode()
    assert "every delivery failed for days" in client.get(f"/settings/webhooks/{subscription.pk}/").content.decode()


def test_the_delivery_log_pages_back_and_shows_one_status(org_a, make_member, client_for):
    """Past the latest page every call can still be found; "failed" alone is one click."""
    import uuid

    from integrations import selectors

    subscription = factories.webhook_subscription(org_a)
    WebhookCall.objects.bulk_create([
        WebhookCall(organization=org_a, subscription=subscription, event="ping", body="{}", delivery_id=uuid.uuid4(),
                    status=WebhookCall.Status.FAILED if n % 10 == 0 else WebhookCall.Status.DELIVERED)
        for n in range(selectors.LOG_LENGTH + 15)])
    admin = client_for(make_member(org_a, Role.ADMIN))
    url = reverse("integrations:webhook_detail", kwargs={"webhooksubscription_id": subscription.pk})
    first, second = admin.get(url), admin.get(url, {"page": 2})
    assert len(first.context["page"].object_list) == selectors.LOG_LENGTH
    assert len(second.context["page"].object_list) == 15
    shown = {c.pk for c in first.context["page"].object_list} | {c.pk for c in second.context["page"].object_list}
    assert shown == set(subscription.calls.values_list("pk", flat=True))  # nobody lost between pages
    assert 'rel="next"' in first.content.decode() and "Page 1 of 2" in first.content.decode()
    failed = admin.get(url, {"status": "failed"})
    assert {c.status for c in failed.context["page"].object_list} == {"failed"}
    assert len(failed.context["page"].object_list) == 7
    # Not a status: every call, never an error page.
    assert admin.get(url, {"status": "nonsense", "page": "x"}).status_code == 200
