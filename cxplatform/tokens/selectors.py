"""Reading API tokens."""

from cxplatform.models import Capability, Membership

from .models import ApiToken


def visible_tokens(*, membership: Membership):
    """The tokens a member sees on the settings page: their own; an admin sees everyone's."""
    tokens = ApiToken.objects.for_org(membership.organization).select_related("user")
    return tokens if membership.can(Capability.ADMINISTER) else tokens.filter(user_id=membership.user_id)
