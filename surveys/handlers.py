"""Event handlers of surveys (registered in SurveysConfig.ready). Idempotent: a comment already
read is not read again."""

from . import comments


def comment_written(*, response_id: int, **_ids) -> None:
    comments.read_comment(response_id=response_id)
