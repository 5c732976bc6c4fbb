from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError

from cxplatform.models import Organization
from metrics.services import rebuild_range
from surveys import comments
from surveys.models import Response


class Command(BaseCommand):
    help = (
        "Read every comment of an organization again (sentiment and themes) — after upgrading the "
        "sentiment model or a lexicon, or for responses recorded before comments were read — and "
        "rebuild the rollups of the days they fall on."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="organization slug")
        parser.add_argument("--from", dest="start", type=date.fromisoformat, help="first day (YYYY-MM-DD)")
        parser.add_argument("--to", dest="end", type=date.fromisoformat, help="last day (YYYY-MM-DD)")

    def handle(self, *args, org, start, end, **options):
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"No organization with slug {org!r}.")
        responses = Response.objects.filter(organization=organization)
        if start:
            responses = responses.filter(started_at__date__gte=start)
        if end:
            responses = responses.filter(started_at__date__lte=end)
        read = comments.reread(responses)
        days = responses.exclude(comment="").order_by("started_at").values_list("started_at", flat=True)
        first, last = days.first(), days.last()
        if first is not None:
            # A response counts on the day it was submitted, which may follow its start by a day.
            rebuild_range(organization, first.date(), last.date() + timedelta(days=2))
        self.stdout.write(f"Read {read} comments of {organization.slug}.")
