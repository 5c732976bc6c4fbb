"""Event handlers of the inbox (registered in FeedbackConfig.ready). Idempotent: the item of a
survey comment is keyed by its response."""

from . import loop, routing, services


def response_recorded(*, response_id: int, **_ids) -> None:
    services.from_survey_response(response_id)


def close_loop(*, response_id: int, **_ids) -> None:
    # Each subscriber is delivered on its own, in no set order, and a failing settlement must never
    # hold the comment back from the inbox: the comment's item is made both there and here (in the
    # settlement, idempotently, under the answer's row lock) so the case never waits for it.
    loop.on_response(response_id)


def comment_read(*, response_id: int, **_ids) -> None:
    loop.on_comment_read(response_id)


def item_received(*, item_id: int, **_ids) -> None:
    # Read first: rules match on the text's sentiment, which the request that brought it left unread.
    services.read_item(item_id=item_id)
    routing.route(item_id)


def item_text_changed(*, item_id: int, **_ids) -> None:
    services.read_item(item_id=item_id)


def offer_accepted(*, acceptance_id: int, **_ids) -> None:
    services.from_offer_acceptance(acceptance_id)
