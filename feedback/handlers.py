"""Event handlers of the inbox (registered in FeedbackConfig.ready). Idempotent: the item of a
survey comment is keyed by its response."""

from . import loop, routing, services


def response_recorded(*, response_id: int, **_ids) -> None:
    # The retired `feedback.inbox_item` subscriber: rows a previous release wrote still make the item.
    services.from_survey_response(response_id)


def close_loop(*, response_id: int, **_ids) -> None:
    # One delivery per answer for the whole inbox side: the comment's item, then the settlement,
    # under one hold of the answer's row (they were two subscribers, each fetching and locking it).
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
