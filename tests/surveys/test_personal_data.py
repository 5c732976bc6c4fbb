"""Customers' personal data leaves the platform only for roles that may see it: a read-only
viewer's export and API answers carry a stable pseudonym instead of e-mails and ids."""

import csv
import io

import openpyxl
import pytest
from rest_framework.test import APIClient

from cxplatform.models import Customer, Role
from cxplatform.personal_data import pseudonym
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def answered(org_a):
    link = factories.distribution(org_a, factories.survey(org_a))
    ann = Customer.objects.create(organization=org_a, external_id="CRM-77", name="Ann Bērziņa",
                                  email="ann@mail.example", phone="+37120000077")
    factories.response(org_a, link, score=3, customer=ann)
    factories.response(org_a, link, score=9, customer=ann)
    factories.response(org_a, link, score=10)  # anonymous
    return link.survey, ann


def _csv(client, survey):
    answer = client.get(f"/surveys/{survey.pk}/responses/export.csv")
    assert answer.status_code == 200
    return list(csv.reader(io.StringIO(b"".join(answer.streaming_content).decode("utf-8-sig"))))


def test_a_viewer_exports_pseudonyms_a_manager_the_customer(org_a, answered, make_member, client_for):
    survey, ann = answered
    viewer = _csv(client_for(make_member(org_a, Role.VIEWER)), survey)
    text = repr(viewer)
    assert "ann@mail.example" not in text and "CRM-77" not in text and "Bērziņa" not in text
    assert "customer_email" not in viewer[0] and "customer_pseudonym" in viewer[0]
    column = viewer[0].index("customer_pseudonym")
    assert sorted(row[column] for row in viewer[1:]) == ["", pseudonym(ann), pseudonym(ann)]  # the same customer twice
    manager = _csv(client_for(make_member(org_a, Role.CX_MANAGER)), survey)
    assert "ann@mail.example" in repr(manager) and "CRM-77" in repr(manager)


def test_the_spreadsheet_export_follows_the_same_rule(org_a, answered, make_member, client_for):
    survey, _ann = answered
    answer = client_for(make_member(org_a, Role.VIEWER)).get(f"/surveys/{survey.pk}/responses/export.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(answer.streaming_content))).active
    cells = repr([[c.value for c in row] for row in sheet.iter_rows()])
    assert "ann@mail.example" not in cells and "CRM-77" not in cells and "customer_pseudonym" in cells


def test_a_pseudonym_is_stable_and_tells_nothing(org_a, org_b):
    a = Customer.objects.create(organization=org_a, external_id="1")
    b = Customer.objects.create(organization=org_b, external_id="1")
    assert pseudonym(a) == pseudonym(Customer.objects.get(pk=a.pk)) != pseudonym(b)
    assert len(pseudonym(a)) == 14 and pseudonym(a).startswith("C-")


def test_the_api_gives_viewers_pseudonyms_and_no_customer_list(org_a, answered, make_member):
    survey, ann = answered
    viewer, agent = APIClient(), APIClient()
    viewer.force_authenticate(make_member(org_a, Role.VIEWER))
    agent.force_authenticate(make_member(org_a, Role.AGENT))
    assert viewer.get("/api/v1/customers/").status_code == 403
    assert agent.get("/api/v1/customers/").status_code == 200
    seen = {r["customer_external_id"] for r in viewer.get(f"/api/v1/responses/?survey={survey.pk}").json()["results"]}
    assert seen == {pseudonym(ann), None}
    seen = {r["customer_external_id"] for r in agent.get(f"/api/v1/responses/?survey={survey.pk}").json()["results"]}
    assert seen == {"CRM-77", None}
