from django.core.management.base import BaseCommand, CommandError

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
        self.stdout.write(f"{done} items reindexed.")
