"""Items written before messages existed whose text the platform wrote (a score without a comment)
get their message, so they too read in the reader's language; a customer's own words are left alone."""

import pytest
from django.utils import translation

from tests import factories
from tests.migrating import migrate_to, migrate_to_latest

BEFORE = [("feedback", "0016_feedback_import_jobs")]


@pytest.mark.django_db(transaction=True)
def test_existing_score_only_items_get_their_message(org_a):
    silent = factories.response(org_a, score=2, comment="")
    spoken = factories.response(org_a, score=3, comment="Late again")
    old_apps = migrate_to(BEFORE)
    try:
        Item = old_apps.get_model("feedback", "FeedbackItem")
        fields = {"organization_id": org_a.pk, "source": "survey", "received_at": silent.started_at}
        Item.objects.create(response_id=silent.pk, text="Vērtējums 2, bez komentāra.", rating=2, **fields)
        Item.objects.create(response_id=spoken.pk, text="Late again", rating=3, **fields)
    finally:
        migrate_to_latest()
    from feedback.models import FeedbackItem

    by_text = {i.text: i for i in FeedbackItem.objects.filter(organization=org_a)}
    with translation.override("en"):
        assert by_text["Vērtējums 2, bez komentāra."].display_text == "Score 2, no comment."
        assert by_text["Late again"].display_text == "Late again" and by_text["Late again"].text_message == {}
