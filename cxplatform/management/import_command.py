"""What every `import_*` command shares: the organization by slug, and the file checked and
imported by the same import job as an upload (`cxplatform.import_jobs.run_now`), in this process;
each bad row is printed as the job reaches it, then the summary (or the job's report as JSON)."""

import json
import os

from django.core.management.base import BaseCommand, CommandError

from cxplatform import import_jobs
from cxplatform.models import ImportJobBase, Organization
from cxplatform.tabular import ImportFileError


class ImportCommand(BaseCommand):
    """A subclass names `job_model`, may add arguments and turn them into the job's fields with
    `job_fields`, and writes `summary(job)`, the last line."""

    job_model: type[ImportJobBase]

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="organization slug")
        parser.add_argument("--json", action="store_true", help="print the job's report as JSON")
        parser.add_argument("file", help="path of a .csv or .xlsx file")

    def job_fields(self, organization, options) -> dict:
        return {}

    def summary(self, job) -> str:
        raise NotImplementedError

    def handle(self, *args, org, file, **options):
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"No organization with slug {org!r}.")
        fields = self.job_fields(organization, options)
        as_json = options["json"]

        def bad_row(row, reason):
            self.stdout.write(f"row {row}: {reason}")

        try:
            with open(file, "rb") as fileobj:
                job = import_jobs.run_now(self.job_model, organization=organization, fileobj=fileobj,
                                          name=os.path.basename(file), on_error=None if as_json else bad_row,
                                          **fields)
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror or exc}") from None
        except ImportFileError as exc:
            raise CommandError(f"{file}: {exc}") from None
        if as_json:
            self.stdout.write(json.dumps(job.report(), ensure_ascii=False, indent=2))
        if job.status == ImportJobBase.Status.FAILED:
            raise CommandError(f"{file}: {job.failure}")
        if as_json:
            return
        if job.ignored_columns:
            self.stdout.write(f"ignored columns: {', '.join(job.ignored_columns)}")
        self.stdout.write(self.style.SUCCESS(f"{os.path.basename(file)}: {self.summary(job)} (import job #{job.pk})"))
