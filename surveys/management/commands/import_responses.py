from django.core.management.base import CommandError

from cxplatform.management.import_command import ImportCommand
from surveys.models import ImportJob, Survey


class Command(ImportCommand):
    help = (
        "Import past responses into a survey from a CSV or XLSX file, synchronously. Bad rows are "
        "listed with their row number and reason and skipped; importing the same file again adds nothing."
    )
    job_model = ImportJob

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--survey", required=True, type=int, help="survey id")

    def job_fields(self, organization, options) -> dict:
        survey = Survey.objects.for_org(organization).filter(pk=options["survey"]).first()
        if survey is None:
            raise CommandError(f"No survey with id {options['survey']} in organization {organization.slug!r}.")
        return {"survey": survey}

    def summary(self, job) -> str:
        return (f"{job.processed_rows} rows, {job.imported_rows} imported, {job.duplicate_rows} duplicates, "
                f"{job.error_rows} errors")
