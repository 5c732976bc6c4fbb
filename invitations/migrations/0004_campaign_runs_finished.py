from django.db import migrations, models
from django.db.models import Exists, F, OuterRef


def runs_already_told(apps, schema_editor):
    """Runs before this migration were told (a one-off campaign once it was sent) or never will
    be (a recurring campaign's past runs): only a run still sending is left to finish and tell —
    a one-off campaign not yet marked sent, or a recurring one's last run with invitations queued."""
    Campaign = apps.get_model("invitations", "Campaign")
    Invitation = apps.get_model("invitations", "Invitation")
    # Still to go out: queued, or being sent for the first time (not a reminder of a sent one).
    sending = Invitation.objects.filter(campaign=OuterRef("pk"), run=OuterRef("runs")).filter(
        models.Q(status="queued") | models.Q(status="sending", sent_at__isnull=True))
    Campaign.objects.update(runs_finished=F("runs"))
    Campaign.objects.filter(runs__gt=0).filter(Exists(sending) | models.Q(status="sending")).update(
        runs_finished=F("runs") - 1)


class Migration(migrations.Migration):

    dependencies = [
        ("invitations", "0003_suppression_sources"),
    ]

    operations = [
        migrations.AddField(
            model_name="campaign",
            name="runs_finished",
            field=models.PositiveIntegerField(default=0, db_default=0),
        ),
        migrations.RunPython(runs_already_told, migrations.RunPython.noop),
    ]
