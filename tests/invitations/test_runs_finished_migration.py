"""Campaigns of the previous release: their runs were told (a one-off campaign once sent) or will
never be (a recurring campaign's past runs), so the migration marks them finished; only a run
still sending is left for the beat to finish and tell (invitations 0004)."""

import pytest
from django.db.models import Max

from tests import factories
from tests.migrating import migrate_to, migrate_to_latest

BEFORE = [("invitations", "0003_suppression_sources")]


@pytest.mark.django_db(transaction=True)
def test_only_runs_still_sending_are_left_to_finish(org_a):
    link, audience = factories.distribution(org_a), factories.audience(org_a)
    person = factories.customer(org_a)
    old_apps = migrate_to(BEFORE)
    try:
        Campaign = old_apps.get_model("invitations", "Campaign")
        Invitation = old_apps.get_model("invitations", "Invitation")
        from django.utils import timezone

        def campaign(name, **fields):
            return Campaign.objects.create(organization_id=org_a.pk, name=name, distribution_id=link.pk,
                                           audience_id=audience.pk, subject={"en": "?"}, body={"en": "?"}, **fields)

        def invitation(campaign, run, status):
            Invitation.objects.create(organization_id=org_a.pk, campaign=campaign, distribution_id=link.pk,
                                      customer_id=person.pk, address=f"{campaign.name}{run}@x.example",
                                      language="en", run=run, status=status, send_after=timezone.now(),
                                      created_at=timezone.now())

        sent = campaign("sent", status="sent", runs=1)
        invitation(sent, 1, "sent")
        sending = campaign("sending", status="sending", runs=1)  # all out, not yet marked sent
        invitation(sending, 1, "sent")
        weekly_done = campaign("weekly done", status="scheduled", recurrence="weekly", runs=3)
        invitation(weekly_done, 3, "sent")
        weekly_busy = campaign("weekly busy", status="scheduled", recurrence="weekly", runs=3)
        invitation(weekly_busy, 3, "queued")
        weekly_reminding = campaign("weekly reminding", status="scheduled", recurrence="weekly", runs=2)
        invitation(weekly_reminding, 2, "sending")  # a reminder of a sent invitation, on its way
        Invitation.objects.filter(campaign=weekly_reminding).update(sent_at=timezone.now())
        draft = campaign("draft")
    finally:
        migrate_to_latest()
    from invitations import services
    from invitations.models import Campaign

    finished = dict(Campaign.objects.values_list("name", "runs_finished"))
    assert finished == {"sent": 1, "sending": 0, "weekly done": 3, "weekly busy": 2, "weekly reminding": 2,
                        "draft": 0}
    # The beat finishes the one-off campaign that was sending, and tells nothing twice.
    assert services.finish_sent_campaigns() == 1
    assert Campaign.objects.get(pk=sending.pk).status == Campaign.Status.SENT
    assert Campaign.objects.get(pk=draft.pk).runs_finished == 0
    assert Campaign.objects.aggregate(top=Max("runs_finished"))["top"] == 3


@pytest.mark.django_db
def test_editing_a_campaign_never_writes_back_the_beats_columns(org_a):
    """The form's copy of the campaign was read before the beat finished a run: saving the edit
    must not undo that (the run would be told a second time)."""
    from invitations import editing
    from invitations.models import Campaign

    weekly = factories.campaign(org_a, status=Campaign.Status.SCHEDULED, recurrence=Campaign.Recurrence.WEEKLY,
                                runs=2, runs_finished=1)
    stale = Campaign.objects.get(pk=weekly.pk)  # what the edit page read
    Campaign.objects.filter(pk=weekly.pk).update(runs_finished=2, runs=3)  # the beat, meanwhile

    def rename(campaign):
        campaign.name = "Weekly pulse"

    editing.save_campaign(campaign=stale, version=stale.version, apply=rename)
    weekly.refresh_from_db()
    assert (weekly.name, weekly.runs, weekly.runs_finished, weekly.status) == ("Weekly pulse", 3, 2, "draft")
