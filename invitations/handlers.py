"""Event handlers of invitations (registered in InvitationsConfig.ready); idempotent."""

from . import services


def invitation_opened(*, invitation_id: int, **_ids) -> None:
    services.mark_opened(invitation_id=invitation_id)


def invitation_answered(*, invitation_id: int, response_id: int, **_ids) -> None:
    services.mark_answered(invitation_id=invitation_id, response_id=response_id)
