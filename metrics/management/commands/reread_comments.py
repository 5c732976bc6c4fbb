from datetime import date

from django.core.management.base import BaseCommand, CommandError

from cxplatform.models import Organization
from metrics import reread


class Command(BaseCommand):
    help = (
        "Read every comment of an organization again (survey comments and inbox items: sentiment and "
        "themes) — after upgrading the sentiment model or a lexicon, or for comments recorded before "
        "they were read — and rebuild the rollups of the days they fall on. Runs a re-read job here, "
        "the same job an admin starts from the settings, and prints its progress."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="organization slug")
        parser.add_argument("--from", dest="start", type=date.fromisoformat, help="first day (YYYY-MM-DD)")
        parser.add_argument("--to", dest="end", type=date.fromisoformat, help="last day (YYYY-MM-DD)")
        parser.add_argument("--chunk", type=int, default=reread.CHUNK, help="comments per transaction")

    def handle(self, *args, org, start, end, chunk, **options):
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"No organization with slug {org!r}.")
        try:
            job = reread.start(organization=organization, since=start, until=end, enqueue=False)
        except reread.AlreadyRunning as running:
            raise CommandError(f"A re-reading of {org} is already {running.job.status} (job #{running.job.pk}).") \
                from None
        counts = {"comments": reread.responses_of(job).count(), "items": reread.items_of(job).count()}

        def progress(job):
            self.stdout.write(f"{job.done}/{job.total} read")

        job = reread.run(job_id=job.pk, chunk_size=max(chunk, 1), on_progress=progress)
        if job.status == job.Status.FAILED:
            raise CommandError(f"The re-reading stopped after {job.done} of {job.total}: {job.error}")
        self.stdout.write(f"Read {counts['comments']} comments and {counts['items']} inbox items of "
                          f"{organization.slug}.")
