"""The inbox search's assertions, run as they are on PostgreSQL (test_search.py) and on the
embedded SQLite default (in a subprocess): both databases must find exactly the same items."""

from django.core.management import call_command
from django.utils.crypto import get_random_string

from cxplatform.models import Organization
from feedback import selectors, services
from feedback.models import FeedbackItem

# (query, the texts it must find, of the organization's own texts below)
CASES = [
    ("курьера", ["Курьер опоздал"]),
    ("КУРЬЕР", ["Курьер опоздал"]),
    ("курьер", ["Курьер опоздал"]),
    ("Курьеры опоздали", ["Курьер опоздал"]),  # every word, each in any form
    ("опоздание", []),  # another word, not a form of "опоздать"
    ("курьер возврат", []),  # one of the words is missing
    ("courier", ["The couriers delayed my deliveries"]),
    ("DELAYS", ["The couriers delayed my deliveries"]),
    ("delivery", ["The couriers delayed my deliveries"]),
    ("kurjeram", ["Kurjers kavēja piegādi"]),
    ("KURJERU", ["Kurjers kavēja piegādi"]),
    ("piegāde", ["Kurjers kavēja piegādi"]),
    ("piegade", ["Kurjers kavēja piegādi"]),  # typed without diacritics
    ("12345", ["Заказ 12345 не пришёл"]),
    ("пришел", ["Заказ 12345 не пришёл"]),  # ё typed as е
    ("?!", []),  # no word at all finds nothing, not everything
    # Function words a query may leave out; a negation is a word like any other.
    ("the courier was late", []),  # "late" is in no text
    ("the couriers have delayed", ["The couriers delayed my deliveries"]),
    ("курьер был", ["Курьер опоздал"]),
    ("курьер не", []),
    ("kurjers ir kavējis", ["Kurjers kavēja piegādi"]),
    ("the", ["The couriers delayed my deliveries"]),  # nothing else asked: the word itself
]
TEXTS = ["Курьер опоздал", "The couriers delayed my deliveries", "Kurjers kavēja piegādi", "Заказ 12345 не пришёл"]


def _organization(name):
    return Organization.objects.create(name=name, slug=f"{name.lower()}-{get_random_string(6).lower()}")


def _found(organization, query):
    return sorted(i.text for i in selectors.items(organization, {"view": "all", "q": query}))


def assert_search_cases():
    own, other = _organization("Own"), _organization("Other")
    for n, text in enumerate(TEXTS):
        services.ingest(own, services.Voice(source="email", source_id=f"m{n}", text=text))
        services.ingest(other, services.Voice(source="email", source_id=f"m{n}", text=text))  # never ours
    for query, expected in CASES:
        assert _found(own, query) == sorted(expected), query

    # A source that changes its text is searched by its new words only.
    services.ingest(own, services.Voice(source="email", source_id="m0", text="Самокат сломался"))
    assert _found(own, "курьер") == [] and _found(own, "самокаты") == ["Самокат сломался"]

    # Words written around the application (SQL, an older normaliser) come back with the command.
    FeedbackItem.objects.filter(organization=own).update(search_words="")
    assert _found(own, "courier") == []
    call_command("reindex_search", org=own.slug, stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert _found(own, "courier") == ["The couriers delayed my deliveries"]
    assert FeedbackItem.objects.filter(organization=other, search_words="").count() == 0
