"""Erasure: every figure stays identical, nothing of the person is left anywhere, the addresses go
on the suppression list, and the audit log says what was erased without saying who."""

import json

import pytest

from cxplatform.audit import AuditAction
from cxplatform.models import AuditEntry, Customer, Role
from feedback.models import FeedbackItem, Message, Note
from invitations.models import AudienceMember, Invitation, Suppression, TriggerEvent
from privacy.registry import ERASED_TEXT
from surveys.models import Response, ResponseTheme

from .conftest import EMAIL, NAME, NEEDLES, PHONE, PHONE_STORED, figures, found_anywhere, rebuild_from_scratch

pytestmark = pytest.mark.django_db

SUPPRESSION_ADDRESS = ("invitations_suppression", "address")


def erase(client, kind, value, confirm=None):
    return client.post("/settings/privacy/erase/", {"kind": kind, "value": value,
                                                    "confirm": value if confirm is None else confirm})


def test_erasure_keeps_every_dashboard_figure_identical(world, client_for):
    client = client_for(world.admin)
    rebuild_from_scratch(world.org)
    before = figures(world.org, client)
    assert before["dashboards"]["nps"]["summary"]  # the scenario really has figures
    assert before["themes"] and before["gold_themes"]
    assert found_anywhere(NEEDLES)  # … and really holds the person

    answer = erase(client, "email", EMAIL)
    assert answer.status_code == 302

    rebuild_from_scratch(world.org)
    after = figures(world.org, client)
    assert after == before


def test_nothing_of_the_person_is_left_anywhere_but_the_suppression_list(world, client_for):
    assert erase(client_for(world.admin), "email", EMAIL.upper()).status_code == 302
    assert found_anywhere(NEEDLES, allowed={SUPPRESSION_ADDRESS}) == []
    kept = set(Suppression.objects.filter(organization=world.org).values_list("address", "reason", "customer_id"))
    assert kept == {(EMAIL.lower(), Suppression.Reason.ERASED, None), (PHONE_STORED, Suppression.Reason.ERASED, None)}


def test_what_the_figures_need_stays_and_what_identifies_goes(world, client_for):
    anna = world.anna
    assert erase(client_for(world.admin), "phone", PHONE, confirm=PHONE_STORED).status_code == 302  # any spelling
    anna.refresh_from_db()
    assert (anna.name, anna.email, anna.phone, anna.external_id) == ("", "", "", "")
    assert anna.attributes == {"plan": "gold"}  # the segment, not the city or the nickname
    assert anna.language == "lv" and str(anna.revenue) == "420.00" and anna.active_since is not None
    responses = Response.objects.filter(customer=anna)
    assert responses.count() == 3  # answers stay, anonymous
    detractor = responses.get(score=3)
    assert detractor.comment == ERASED_TEXT and detractor.sentiment == -1
    assert detractor.hidden_fields == {"order_id": "A-1001", "invitation": "17"}
    assert set(ResponseTheme.objects.filter(response=detractor).values_list("phrase", flat=True)) == {
        "courier", "courier late"}
    case = FeedbackItem.objects.get(response=detractor)
    assert case.text == ERASED_TEXT and case.resolution_note == ERASED_TEXT and case.status == "resolved"
    assert set(Message.objects.filter(item=case).values_list("text", "to_address")) == {(ERASED_TEXT, "")}
    assert list(Note.objects.filter(item=case).values_list("text", flat=True)) == [ERASED_TEXT]
    # Someone else's note keeps its words, without hers.
    other_note = Note.objects.exclude(item=case).exclude(text=ERASED_TEXT).get()
    assert other_note.text == f"Same as {ERASED_TEXT} last week; ask {ERASED_TEXT}?"
    # The e-mail that came from her address without a customer link is hers too.
    assert FeedbackItem.objects.filter(organization=world.org, customer__isnull=True, source="email").get().text == (
        ERASED_TEXT)
    invitation = Invitation.objects.get(customer=anna)
    assert invitation.address == "" and invitation.status == Invitation.Status.SENT
    event = TriggerEvent.objects.get(customer=anna)
    assert event.payload == {"email": ERASED_TEXT, "name": ERASED_TEXT, "phone": ERASED_TEXT, "order": "A-1001"}
    assert not AudienceMember.objects.filter(customer=anna).exists()


def test_the_audit_entry_counts_without_naming(world, client_for):
    erase(client_for(world.admin), "external_id", world.anna.external_id)
    entry = AuditEntry.objects.get(organization=world.org, action=AuditAction.SUBJECT_ERASED)
    assert entry.actor == world.admin
    assert entry.details["customers"] == [world.anna.pk]
    assert entry.details["counts"]["responses"] == 4  # her three, and the anonymous one naming her
    assert entry.details["counts"]["items"] == 2 and entry.details["counts"]["suppressed"] == 2
    written = json.dumps(entry.details) + entry.target_label + entry.actor_label
    assert not any(needle.lower() in written.lower() for needle in NEEDLES)


def test_erasure_is_refused_without_the_typed_confirmation(world, client_for):
    answer = erase(client_for(world.admin), "email", EMAIL, confirm="someone@else.example")
    assert answer.status_code == 400
    assert "does not match" in answer.content.decode()
    assert Customer.objects.get(pk=world.anna.pk).email == EMAIL
    assert not Suppression.objects.exists()
    assert not AuditEntry.objects.filter(action=AuditAction.SUBJECT_ERASED).exists()


def test_erasing_twice_changes_nothing_more(world, client_for):
    client = client_for(world.admin)
    erase(client, "email", EMAIL)
    rebuild_from_scratch(world.org)
    once = figures(world.org)
    erase(client, "email", EMAIL)
    rebuild_from_scratch(world.org)
    assert figures(world.org) == once
    assert Suppression.objects.filter(organization=world.org).count() == 2


def test_cx_manager_may_not_erase(world, make_member, client_for):
    manager = make_member(world.org, Role.CX_MANAGER)
    assert erase(client_for(manager), "email", EMAIL).status_code == 403
    assert Customer.objects.get(pk=world.anna.pk).name == NAME
