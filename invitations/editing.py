"""The manager's edits of invitations, each one transaction: an audience's filter, a campaign
(only while a draft or scheduled, never over a later version), deleting an audience no campaign
uses, the suppression list by hand, and the sending settings."""

from django.db import transaction
from django.db.models import ProtectedError
from django.http import HttpRequest
from django.utils.translation import gettext as _

from cxplatform import audit
from cxplatform.versioning import lock_version

from . import services
from .models import Audience, Campaign, SendingProfile, Suppression

EDITABLE = (Campaign.Status.DRAFT, Campaign.Status.SCHEDULED)


def save_audience(*, audience: Audience, name: str, criteria: dict, version: int | None, user=None) -> Audience:
    """Create (no pk) or change a filter audience; StaleEdit when it changed since `version`."""
    with transaction.atomic():
        if audience.pk:
            lock_version(audience, version)
        else:
            audience.created_by = user
        audience.name = name
        if audience.kind == Audience.Kind.FILTER:
            audience.criteria = criteria
        audience.save()
    return audience


def delete_audience(*, audience: Audience) -> bool:
    """False (nothing deleted) while a campaign uses it."""
    if audience.campaigns.exists():
        return False
    try:
        with transaction.atomic():
            audience.delete()
    except ProtectedError:
        return False
    return True


def save_campaign(*, campaign: Campaign, version: int | None, apply, user=None) -> Campaign:
    """Create (no pk) or change a campaign: `apply(campaign)` sets the form's values. A campaign
    under way, sent or cancelled is not changed (CampaignError); an old version is refused
    (StaleEdit). A scheduled campaign edited goes back to draft: it is scheduled again on purpose."""
    with transaction.atomic():
        if campaign.pk:
            lock_version(campaign, version)
            # The beat's own columns as they are now, under the lock: the form's copy was read
            # before a run may have started or finished, and saving it would write them back.
            campaign.refresh_from_db(fields=["status", "runs", "runs_finished", "last_run_at", "send_at"])
            status = campaign.status
            if status not in EDITABLE:
                raise services.CampaignError(_("Only a draft or scheduled campaign can be changed."))
            campaign.status = Campaign.Status.DRAFT
        else:
            campaign.created_by = user
            campaign.status = Campaign.Status.DRAFT
        apply(campaign)
        campaign.save()
    return campaign


def add_suppression(*, organization, address: str, user, request: HttpRequest | None = None) -> bool:
    """The team adds an address by hand; False when it was on the list already."""
    with transaction.atomic():
        entry, created = services.suppress(organization=organization, address=address,
                                           reason=Suppression.Reason.ADDED, source=Suppression.Source.TEAM, user=user)
        if created:
            _record_suppression(request=request, entry=entry, change="created")
    return created


def lift_suppression(*, organization, address: str, request: HttpRequest | None = None) -> bool:
    """The team removes an address (the customer asked to hear from them again)."""
    with transaction.atomic():
        entries = list(Suppression.objects.filter(organization=organization,
                                                  address=services.normalise_address(address)))
        for entry in entries:
            _record_suppression(request=request, entry=entry, change="deleted")
        return services.lift_suppression(organization=organization, address=address)


def _record_suppression(*, request, entry: Suppression, change: str) -> None:
    audit.record(action=audit.AuditAction.SETTINGS_CHANGED, organization=entry.organization, request=request,
                 target=entry, target_label=entry.address,
                 details={"setting": Suppression._meta.label_lower, "change": change, "changes": {}})


def save_sending_settings(*, organization, profile: SendingProfile, time_zone: str,
                          request: HttpRequest | None = None) -> None:
    with transaction.atomic():
        stored = SendingProfile.objects.filter(pk=profile.pk).first() if profile.pk else None
        before = audit.snapshot(stored) if stored is not None else {}
        profile.organization = organization
        profile.save()
        extra = {}
        if organization.time_zone != time_zone:
            extra["time_zone"] = [organization.time_zone, time_zone]
            organization.time_zone = time_zone
            organization.save(update_fields=["time_zone"])
        audit.record_setting(request=request, organization=organization, instance=profile, change="changed",
                             before=before, extra=extra)
