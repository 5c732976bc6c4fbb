"""Every comment gets its sentiment and themes when it is written, so figures and routing read
them from the row instead of analysing text again."""

from cxplatform.textinsight.sentiment import classify
from cxplatform.textinsight.themes import themes

from .models import Response, ResponseTheme


def read_sentiment(response: Response) -> None:
    """Set the response's sentiment fields from its comment (unsaved)."""
    found = classify(response.comment, response.language)
    response.sentiment = found.value if found else None
    response.sentiment_score = round(found.score * 100) if found else None


def store_themes(response: Response) -> None:
    """Replace the saved response's theme rows by those of its current comment."""
    ResponseTheme.objects.filter(response=response).delete()
    store_new_themes([response])


def store_new_themes(responses) -> None:
    """Theme rows of saved responses that have none yet (bulk loads: the demo, benchmarks)."""
    ResponseTheme.objects.bulk_create([
        ResponseTheme(organization_id=r.organization_id, response=r, phrase=phrase)
        for r in responses if r.comment
        for phrase in themes(r.comment, r.language)
    ], batch_size=5000)


def reread(responses, chunk_size: int = 2000) -> int:
    """Read the comments of `responses` (a queryset) again — after an upgrade of the model or a
    lexicon, or for responses written before comments were read. Each chunk is one transaction.
    Returns how many comments were read."""
    from django.db import transaction

    done = 0
    ids = list(responses.exclude(comment="").order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), chunk_size):
        with transaction.atomic():
            batch = list(Response.objects.filter(pk__in=ids[start:start + chunk_size]).select_for_update())
            for response in batch:
                read_sentiment(response)
            Response.objects.bulk_update(batch, ["sentiment", "sentiment_score"])
            ResponseTheme.objects.filter(response__in=batch).delete()
            store_new_themes(batch)
        done += len(batch)
    return done
