"""The rest of what the pages could do and the API could not: channels, customers' revenue and
dates (the inputs of churn and CLV), customer imports, saved inbox views and inbox imports."""

import io
import json

import pytest
from django.test import Client

from cxplatform.models import Customer, CustomerImportJob, Role
from feedback.models import FeedbackImportJob, RoutingRule, SavedView
from journeys.models import Channel
from tests import factories
from tests.apierrors import error_fields

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(api_headers):
    def as_member(user, organization):
        client, headers = Client(), api_headers(user, organization)

        def call(method, path, body=None):
            kwargs = {"data": json.dumps(body), "content_type": "application/json"} if body is not None else {}
            return getattr(client, method)(path, **kwargs, **headers)

        call.user, call.headers = user, headers
        return call

    return as_member


@pytest.fixture
def manager(org_a, make_member, api):
    return api(make_member(org_a, Role.CX_MANAGER), org_a)


@pytest.fixture
def viewer(org_a, make_member, api):
    return api(make_member(org_a, Role.VIEWER), org_a)


def _upload(name: str, content: bytes):
    upload = io.BytesIO(content)
    upload.name = name
    return upload


# --- Channels ----------------------------------------------------------------------------------

def test_a_manager_keeps_the_channels(manager, org_a):
    created = manager("post", "/api/v1/channels/", {"name": "Call centre", "kind": "call_centre"})
    assert created.status_code == 201, created.content
    channel = Channel.objects.get(pk=created.json()["id"])
    assert channel.organization == org_a
    assert manager("patch", f"/api/v1/channels/{channel.pk}/", {"name": "Phone"}).status_code == 200
    assert [c["name"] for c in manager("get", "/api/v1/channels/?kind=call_centre").json()["results"]] == ["Phone"]
    assert manager("delete", f"/api/v1/channels/{channel.pk}/").status_code == 204
    assert not Channel.objects.filter(pk=channel.pk).exists()


def test_a_channel_name_is_unique_and_not_blank(manager, org_a, org_b):
    factories.channel(org_b).__class__.objects.create(organization=org_b, name="Web")
    assert manager("post", "/api/v1/channels/", {"name": "Web"}).status_code == 201  # another org's name is free
    for name in ("web", "  "):
        refused = manager("post", "/api/v1/channels/", {"name": name})
        assert refused.status_code == 400 and "name" in error_fields(refused)
    assert Channel.objects.filter(organization=org_a).count() == 1


def test_a_channel_in_use_is_not_deleted(manager, org_a):
    used_by_touchpoint = factories.touchpoint(org_a).channel
    used_by_rule = factories.channel(org_a)
    RoutingRule.objects.create(organization=org_a, name="Calls", channel=used_by_rule)  # would cascade away
    for channel in (used_by_touchpoint, used_by_rule):
        assert manager("delete", f"/api/v1/channels/{channel.pk}/").status_code == 409
    assert Channel.objects.filter(pk__in=[used_by_touchpoint.pk, used_by_rule.pk]).count() == 2
    assert RoutingRule.objects.filter(channel=used_by_rule).exists()


def test_channels_keep_to_their_organization_and_viewers_only_read(manager, viewer, org_a, org_b):
    foreign, own = factories.channel(org_b), factories.channel(org_a)
    for method in ("get", "patch", "delete"):
        assert manager(method, f"/api/v1/channels/{foreign.pk}/", {} if method == "patch" else None
                       ).status_code == 404
    assert [c["id"] for c in manager("get", "/api/v1/channels/").json()["results"]] == [own.pk]
    assert viewer("get", f"/api/v1/channels/{own.pk}/").status_code == 200
    assert viewer("post", "/api/v1/channels/", {"name": "Shop"}).status_code == 403
    assert viewer("delete", f"/api/v1/channels/{own.pk}/").status_code == 403
    assert Channel.objects.count() == 2


# --- Customers: revenue and dates --------------------------------------------------------------

def test_customers_carry_revenue_and_dates(manager, org_a):
    created = manager("post", "/api/v1/customers/", {"external_id": "CRM-1", "revenue": "1250.50",
                                                     "active_since": "2024-02-01", "cancelled_on": "2026-03-31"})
    assert created.status_code == 201, created.content
    customer = Customer.objects.get(pk=created.json()["id"])
    assert (str(customer.revenue), str(customer.active_since), str(customer.cancelled_on)) == (
        "1250.50", "2024-02-01", "2026-03-31")
    assert created.json()["revenue"] == "1250.50"
    reopened = manager("patch", f"/api/v1/customers/{customer.pk}/", {"cancelled_on": None})
    assert reopened.status_code == 200
    assert Customer.objects.get(pk=customer.pk).cancelled_on is None


@pytest.mark.parametrize(("body", "field"), [
    ({"revenue": "-1"}, "revenue"), ({"revenue": "lots"}, "revenue"), ({"revenue": "1e20"}, "revenue"),
    ({"active_since": "2026-02-30"}, "active_since"), ({"cancelled_on": "2023-12-31"}, "cancelled_on"),
])
def test_wrong_revenue_or_dates_are_refused_and_change_nothing(manager, org_a, body, field):
    customer = Customer.objects.create(organization=org_a, external_id="CRM-2", active_since="2024-01-01")
    refused = manager("patch", f"/api/v1/customers/{customer.pk}/", body)
    assert refused.status_code == 400 and field in error_fields(refused)
    customer.refresh_from_db()
    assert (customer.revenue, customer.cancelled_on, str(customer.active_since)) == (0, None, "2024-01-01")


def test_customer_imports_are_uploaded_and_followed(manager, org_a, org_b):
    client = Client()
    created = client.post("/api/v1/customer-imports/",
                          {"file": _upload("customers.csv", b"external_id,revenue\nCRM-9,10.00\n")}, **manager.headers)
    assert created.status_code == 201, created.content
    job = CustomerImportJob.objects.get(pk=created.json()["id"])
    assert (job.organization, job.status, job.created_by) == (org_a, "queued", manager.user)
    detail = manager("get", f"/api/v1/customer-imports/{job.pk}/").json()
    assert set(detail["counters"]) == {"created", "updated", "unchanged"}
    refused = client.post("/api/v1/customer-imports/", {"file": _upload("customers.csv", b"colour\nred\n")},
                          **manager.headers)
    assert refused.status_code == 400 and "file" in error_fields(refused)
    assert CustomerImportJob.objects.count() == 1
    foreign = factories.customer_import_job(org_b)
    assert manager("get", f"/api/v1/customer-imports/{foreign.pk}/").status_code == 404


def test_a_viewer_neither_reads_nor_uploads_customer_imports(viewer, org_a):
    job = factories.customer_import_job(org_a)
    assert viewer("get", f"/api/v1/customer-imports/{job.pk}/").status_code == 403
    refused = Client().post("/api/v1/customer-imports/", {"file": _upload("c.csv", b"external_id\nX\n")},
                            **viewer.headers)
    assert refused.status_code == 403
    assert CustomerImportJob.objects.count() == 1


# --- Saved inbox views -------------------------------------------------------------------------

def test_an_agent_saves_a_view_and_saving_its_name_again_replaces_the_filters(api, org_a, make_member):
    agent = api(make_member(org_a, Role.AGENT), org_a)
    created = agent("post", "/api/v1/feedback/saved-views/", {"name": "Urgent", "query": "priority=1&after=x&q=late"})
    assert created.status_code == 201, created.content
    view = SavedView.objects.get(pk=created.json()["id"])
    assert (view.owner, view.query, view.shared) == (agent.user, "priority=1&q=late", False)  # the cursor is no filter
    again = agent("post", "/api/v1/feedback/saved-views/", {"name": "Urgent", "query": "priority=2"})
    assert again.status_code == 200 and again.json()["id"] == view.pk
    assert SavedView.objects.get(pk=view.pk).query == "priority=2"
    assert agent("patch", f"/api/v1/feedback/saved-views/{view.pk}/", {"shared": True}).status_code == 200
    assert agent("delete", f"/api/v1/feedback/saved-views/{view.pk}/").status_code == 204
    assert not SavedView.objects.exists()


def test_views_are_per_person_as_on_the_inbox_page(api, org_a, make_member):
    owner = api(make_member(org_a, Role.AGENT), org_a)
    colleague = api(make_member(org_a, Role.AGENT), org_a)
    admin = api(make_member(org_a, Role.ADMIN), org_a)
    private = SavedView.objects.create(organization=org_a, owner=owner.user, name="Mine", query="q=a")
    shared = SavedView.objects.create(organization=org_a, owner=owner.user, name="Team", query="q=b", shared=True)
    assert [v["id"] for v in colleague("get", "/api/v1/feedback/saved-views/").json()["results"]] == [shared.pk]
    assert colleague("get", f"/api/v1/feedback/saved-views/{private.pk}/").status_code == 404
    assert colleague("patch", f"/api/v1/feedback/saved-views/{shared.pk}/", {"name": "Ours"}).status_code == 404
    assert colleague("delete", f"/api/v1/feedback/saved-views/{shared.pk}/").status_code == 404
    assert admin("delete", f"/api/v1/feedback/saved-views/{private.pk}/").status_code == 404
    assert admin("delete", f"/api/v1/feedback/saved-views/{shared.pk}/").status_code == 204
    assert list(SavedView.objects.values_list("pk", flat=True)) == [private.pk]


def test_saved_views_keep_to_their_organization_and_role(api, viewer, org_a, org_b, make_member):
    foreign = factories.saved_view(org_b)
    agent = api(make_member(org_a, Role.AGENT), org_a)
    assert agent("get", f"/api/v1/feedback/saved-views/{foreign.pk}/").status_code == 404
    assert agent("delete", f"/api/v1/feedback/saved-views/{foreign.pk}/").status_code == 404
    assert viewer("post", "/api/v1/feedback/saved-views/", {"name": "Mine"}).status_code == 403
    refused = agent("post", "/api/v1/feedback/saved-views/", {"name": "  "})
    assert refused.status_code == 400 and "name" in error_fields(refused)
    assert SavedView.objects.count() == 1


def test_inbox_imports_are_uploaded_and_followed(api, org_a, org_b, make_member):
    agent = api(make_member(org_a, Role.AGENT), org_a)
    created = Client().post("/api/v1/feedback/imports/",
                            {"file": _upload("reviews.csv", b"text,rating\nSlow delivery,2\n")}, **agent.headers)
    assert created.status_code == 201, created.content
    job = FeedbackImportJob.objects.get(pk=created.json()["id"])
    assert (job.organization, job.status) == (org_a, "queued")
    assert set(agent("get", f"/api/v1/feedback/imports/{job.pk}/").json()["counters"]) == {"created", "existing"}
    foreign = factories.feedback_import_job(org_b)
    assert agent("get", f"/api/v1/feedback/imports/{foreign.pk}/").status_code == 404
