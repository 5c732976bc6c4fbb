import time
from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Max, Min
from django.db.models.functions import Coalesce

from cxplatform.models import Organization
from metrics.services import rebuild_range
from surveys.models import Response


class Command(BaseCommand):
    help = "Rebuild the daily metric rollups of a range of days from raw responses."

    def add_arguments(self, parser):
        parser.add_argument("--org", help="organization slug (default: every organization)")
        parser.add_argument("--from", dest="start", type=date.fromisoformat, help="first day, YYYY-MM-DD")
        parser.add_argument("--to", dest="end", type=date.fromisoformat, help="last day (inclusive), YYYY-MM-DD")

    def handle(self, *args, org=None, start=None, end=None, **options):
        orgs = Organization.objects.all()
        if org:
            orgs = orgs.filter(slug=org)
            if not orgs.exists():
                raise CommandError(f"No organization with slug {org!r}.")
        for organization in orgs:
            first, last = start, end
            if first is None or last is None:
                span = Response.objects.filter(organization=organization).aggregate(
                    lo=Min(Coalesce("submitted_at", "started_at")), hi=Max(Coalesce("submitted_at", "started_at")))
                if span["lo"] is None:
                    continue
                first, last = first or span["lo"].date(), last or span["hi"].date()
            began = time.perf_counter()
            folded = rebuild_range(organization, first, last + timedelta(days=1))
            seconds = time.perf_counter() - began
            self.stdout.write(f"{organization.slug}: {folded} responses from {first} to {last} in {seconds:.1f} s")
