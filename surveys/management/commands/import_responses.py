import os

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from cxplatform.models import Organization
from surveys import importing
from surveys.models import ImportJob, Survey


class Command(BaseCommand):
    help = (
        "Import past responses into a survey from a CSV or XLSX file, synchronously. Bad rows are "
        "listed with their row number and reason and skipped; importing the same file again adds nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="organization slug")
        parser.add_argument("--survey", required=True, type=int, help="survey id")
        parser.add_argument("file", help="path of a .csv or .xlsx file")

    def handle(self, *args, org, survey, file, **options):
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"No organization with slug {org!r}.")
        survey_obj = Survey.objects.for_org(organization).filter(pk=survey).first()
        if survey_obj is None:
            raise CommandError(f"No survey with id {survey} in organization {org!r}.")
        name = os.path.basename(file)
        try:
            with open(file, "rb") as fileobj:
                importing.check_file(fileobj, name, survey_obj)
                job = importing.create_job(survey_obj, File(fileobj, name=name), original_name=name, enqueue=False)
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror or exc}") from None
        except importing.ImportFileError as exc:
            raise CommandError(f"{file}: {exc}") from None

        def bad_row(row, reason):
            self.stdout.write(f"row {row}: {reason}")

        job = importing.run_import(job.pk, on_error=bad_row)
        if job is None:  # cannot happen: the job was created above, queued, for this run only
            raise CommandError("The import job was taken by another process.")
        if job.status == ImportJob.Status.FAILED:
            raise CommandError(f"{file}: {job.failure}")
        self.stdout.write(self.style.SUCCESS(
            f"{job.original_name}: {job.processed_rows} rows, {job.imported_rows} imported, "
            f"{job.duplicate_rows} duplicates, {job.error_rows} errors (import job #{job.pk})."
        ))
