"""A customer is one per organization by external id, by e-mail (any case) and by phone (any
spelling) — enforced by the database, so racing first contacts never make two; the API, imports
and the migration that brought the rule follow it."""

import threading
import uuid

import pytest
from django.db import connection, connections
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from rest_framework.test import APIClient

from cxplatform.models import Customer, Role
from cxplatform.services import match_or_create_customer, normalise_phone


def _race(target, pairs: int):
    """Run `target(i)` twice at once for each i, from threads with their own connections."""
    errors = []

    def run(i, barrier):
        try:
            barrier.wait()
            target(i)
        except Exception as exc:  # noqa: BLE001 — reported by the test
            errors.append(exc)
        finally:
            connections.close_all()

    for i in range(pairs):
        barrier = threading.Barrier(2)
        threads = [threading.Thread(target=run, args=(i, barrier)) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors, errors


@pytest.mark.django_db(transaction=True)
def test_racing_first_contacts_make_one_customer(org_a):
    _race(lambda i: match_or_create_customer(org_a, email=f"New.Customer{i}@Example.com"), 20)
    _race(lambda i: match_or_create_customer(org_a, phone=f"+371 2{i:03d} 0000"), 20)
    assert Customer.objects.filter(organization=org_a).count() == 40


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_api_posts_of_one_item_make_one_customer(org_a, make_member):
    """The probe: 59 duplicate customers in 204 pairs under load."""
    from cxplatform.tokens.services import create_token

    token = create_token(user=make_member(org_a, Role.AGENT), organization=org_a, name="Mail", scopes=["write"])[1]

    def post(i):
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        answer = api.post("/api/v1/feedback/items/", {"text": "Where is my order?", "source": "email",
                                                      "source_id": f"mail-{i}", "customer_email": f"c{i}@x.example"},
                          format="json")
        assert answer.status_code in (200, 201), answer.content

    _race(post, 15)
    assert Customer.objects.filter(organization=org_a).count() == 15


@pytest.mark.django_db
def test_an_email_in_any_case_and_a_phone_in_any_spelling_is_the_same_customer(org_a, org_b):
    ann = match_or_create_customer(org_a, email="Ann@Mail.example", phone="+371 2000-0001")
    assert match_or_create_customer(org_a, email="ann@mail.EXAMPLE") == ann
    assert match_or_create_customer(org_a, phone="+37120000001") == ann
    assert ann.phone == "+37120000001" == normalise_phone("+371 (2000) 00-01")
    assert match_or_create_customer(org_b, email="ann@mail.example") != ann  # another organization's own


@pytest.mark.django_db
def test_the_api_refuses_another_customers_email_or_phone(org_a, make_member):
    api = APIClient()
    api.force_authenticate(make_member(org_a, Role.AGENT))
    api.post("/api/v1/customers/", {"external_id": "A", "email": "ann@x.example", "phone": "+371 2000 0001"},
             format="json")
    for clash in ({"email": "ANN@x.example"}, {"phone": "+37120000001"}):
        answer = api.post("/api/v1/customers/", {"external_id": "B", **clash}, format="json")
        assert answer.status_code == 400 and "already exists" in str(answer.json()), clash
    assert Customer.objects.count() == 1


@pytest.mark.django_db
def test_an_import_row_with_another_customers_email_is_refused_with_its_row(org_a):
    import io

    from cxplatform.import_jobs import run_now
    from cxplatform.models import CustomerImportJob

    Customer.objects.create(organization=org_a, external_id="CRM-1", email="ann@mail.example")
    data = ("external_id,email,phone\nCRM-2,Ann@Mail.example,\nCRM-3,eve@mail.example,+371 2000 0003\n"
            "CRM-4,,+371-2000-0003\nCRM-1,ann@mail.example,\n")
    job = run_now(CustomerImportJob, organization=org_a, fileobj=io.BytesIO(data.encode()), name="customers.csv")
    reasons = {error["row"]: error["reason"] for error in job.errors}
    assert set(reasons) == {2, 4}, reasons
    assert "belongs to another customer (external id CRM-1)" in reasons[2]
    assert "belongs to another customer (external id CRM-3)" in reasons[4]
    assert sorted(Customer.objects.values_list("external_id", flat=True)) == ["CRM-1", "CRM-3"]


@pytest.mark.django_db(transaction=True)
def test_the_migration_merges_customers_that_share_an_email_or_a_phone(org_a):
    """Existing duplicates are merged into the oldest, with their answers and inbox items."""
    executor = MigrationExecutor(connection)
    before = [("cxplatform", "0006_customer_import_jobs"), ("surveys", "0006_import_job_lifecycle"),
              ("feedback", "0016_feedback_import_jobs")]
    after = [("cxplatform", "0008_customer_identities")]
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    Customer = old.get_model("cxplatform", "Customer")
    Response = old.get_model("surveys", "Response")
    Survey = old.get_model("surveys", "Survey")
    first = Customer.objects.create(organization_id=org_a.pk, external_id="", email="ann@mail.example")
    again = Customer.objects.create(organization_id=org_a.pk, external_id="CRM-9", email="ANN@mail.example",
                                    phone="+371 2000 0009", name="Ann")
    by_phone = Customer.objects.create(organization_id=org_a.pk, external_id="", phone="+37120000009")
    survey = Survey.objects.create(organization_id=org_a.pk, name="S", survey_type="nps")
    answer = Response.objects.create(organization_id=org_a.pk, survey=survey, customer=again, token=uuid.uuid4(),
                                     language="en", started_at=timezone.now())
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    merged = Customer.objects.get(pk=first.pk)
    assert (merged.external_id, merged.name, merged.phone) == ("CRM-9", "Ann", "+37120000009")
    assert not Customer.objects.filter(pk__in=[again.pk, by_phone.pk]).exists()
    assert Response.objects.get(pk=answer.pk).customer_id == first.pk
