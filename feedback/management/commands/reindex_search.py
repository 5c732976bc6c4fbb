from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from cxplatform.models import Organization
from feedback.models import FeedbackItem
from feedback.services import reindex_search


class Command(BaseCommand):
    help = ("Write the inbox's search words of every item again from its text (after an upgrade of the "
            "normaliser, or for items written around the application, e.g. by SQL). --org SLUG limits it "
            "to one organization.")

    def add_arguments(self, parser):
        parser.add_argument("--org", help="the organization's slug; every organization when omitted")

    def handle(self, *args, org=None, **options):
        items = FeedbackItem.objects.all()
        if org:
            organization = Organization.objects.filter(slug=org).first()
            if organization is None:
                raise CommandError(f"No organization with the slug {org!r}.")
            items = items.filter(organization=organization)
        done = reindex_search(items=items)
        if connection.vendor == "postgresql":
            # Every row was rewritten: without fresh statistics PostgreSQL walked the newest items
            # for a rare word instead of asking the index (bench/RESULTS.md).
            # VACUUM cannot run inside a transaction (a caller's): ANALYZE alone then.
            sql = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
            with connection.cursor() as cursor:
                cursor.execute(f"{sql} feedback_feedbackitem")
        self.stdout.write(f"{done} items reindexed.")
