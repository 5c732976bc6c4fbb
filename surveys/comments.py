"""Every comment gets its sentiment and themes, so figures and routing read them from the row
instead of analysing text again. They are read by a worker, not in the customer's request
(docs/adr/0021): `record_response` marks a changed comment unread and emits
`surveys.comment_written`; the `surveys.read_comment` subscriber reads it and emits
`surveys.comment_read`, on which the apps above (metrics, the closed loop) act again."""

from django.db import transaction

from cxplatform import events
from cxplatform.personal_data import ERASED_TEXT
from cxplatform.textinsight.reading import Reading, read

from .models import Response, ResponseTheme

# A response's comment changed and waits to be read (payload: response_id).
COMMENT_WRITTEN = events.declare("surveys.comment_written", fields={"response_id"})
# A response's current comment has its sentiment and themes now (payload: response_id).
COMMENT_READ = events.declare("surveys.comment_read", fields={"response_id"})


def read_sentiment(response: Response) -> Reading | None:
    """Set the response's sentiment fields from its comment (unsaved); returns the reading, whose
    themes `store_new_themes` stores."""
    reading = read(response.comment, response.language)
    found = reading.sentiment if reading else None
    response.sentiment = found.value if found else None
    response.sentiment_score = round(found.score * 100) if found else None
    return reading


def store_new_themes(responses, readings: dict | None = None) -> None:
    """Theme rows, each with its clauses' sentiment, of saved responses that have none yet (bulk
    loads: the demo, benchmarks). `readings` (response id → Reading) saves reading them twice."""
    readings = readings or {}
    rows = []
    for r in responses:
        if not r.comment:
            continue
        reading = readings[r.pk] if r.pk in readings else read(r.comment, r.language)
        if reading is None:
            continue
        rows += [ResponseTheme(organization_id=r.organization_id, response=r, phrase=theme, sentiment=sign)
                 for theme, sign in reading.theme_sentiments().items()]
    ResponseTheme.objects.bulk_create(rows, batch_size=5000)


def mark_unread(response: Response) -> None:
    """The comment of `response` (unsaved) changed: what was read of the old one no longer holds.
    An empty comment has nothing to read, so it is read at once."""
    response.sentiment = response.sentiment_score = None
    response.comment_read = not response.comment


def comment_written(response: Response, *, organization, fresh: bool) -> None:
    """After the saved response's comment changed (in its transaction): drop the old comment's
    themes (a fresh response has none) and ask a worker to read the new one."""
    if not fresh:
        ResponseTheme.objects.filter(response=response).delete()
    if not response.comment_read:
        events.emit(COMMENT_WRITTEN, organization=organization, response_id=response.pk)


def read_comment(*, response_id: int) -> bool:
    """The `surveys.comment_written` subscriber: read the response's *current* comment, under its
    row lock, unless it was read already (a stale or redelivered event, or a later change read
    first) — so each written comment is read once, and the last word is the latest comment's.
    Returns whether it read one."""
    with transaction.atomic(savepoint=False):  # the delivery's transaction is the one that counts
        response = (Response.objects.select_for_update(no_key=True, of=("self",)).select_related("organization")
                    .filter(pk=response_id).first())
        if response is None or response.comment_read:
            return False
        reading = read_sentiment(response)
        # An UPDATE, not save(): reading is no change of the answer (its updated_at times the
        # abandonment of answers in progress).
        Response.objects.filter(pk=response.pk).update(
            sentiment=response.sentiment, sentiment_score=response.sentiment_score, comment_read=True)
        ResponseTheme.objects.filter(response=response).delete()
        store_new_themes([response], {response.pk: reading})
        events.emit(COMMENT_READ, organization=response.organization, response_id=response.pk)
    return True


def reread(responses, chunk_size: int = 2000) -> int:
    """Read the comments of `responses` (a queryset) again — after an upgrade of the model or a
    lexicon, or for responses written before comments were read. Each chunk is one transaction.
    Returns how many comments were read. A comment still waiting for its worker keeps its mark:
    that read emits `surveys.comment_read`, which the closed loop waits for."""
    done = 0
    ids = list(responses.exclude(comment__in=["", ERASED_TEXT]).order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), chunk_size):
        with transaction.atomic():
            # Locked in one order: two overlapping re-reads never deadlock.
            batch = list(Response.objects.filter(pk__in=ids[start:start + chunk_size]).order_by("pk")
                         .select_for_update(no_key=True))
            readings = {response.pk: read_sentiment(response) for response in batch}
            Response.objects.bulk_update(batch, ["sentiment", "sentiment_score"])
            ResponseTheme.objects.filter(response__in=batch).delete()
            store_new_themes(batch, readings)
        done += len(batch)
    return done
