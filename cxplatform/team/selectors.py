from django.db.models import QuerySet

from cxplatform.models import Membership, Organization, Role

from .models import MemberInvitation


def members(organization: Organization) -> QuerySet:
    """Every membership of the organization, deactivated ones too (the page reactivates them)."""
    return (Membership.objects.for_org(organization).select_related("user")
            .order_by("-is_active", "user__first_name", "user__last_name", "user__username"))


def open_invitations(organization: Organization) -> QuerySet:
    """Neither accepted nor withdrawn; expired ones stay listed so the admin can resend them."""
    return (MemberInvitation.objects.for_org(organization).select_related("invited_by")
            .filter(accepted_at__isnull=True, revoked_at__isnull=True).order_by("-sent_at", "-id"))


def active_admin_count(organization: Organization) -> int:
    return Membership.objects.for_org(organization).filter(role=Role.ADMIN, is_active=True).count()
