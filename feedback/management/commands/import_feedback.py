import json
import os

from django.core.management.base import BaseCommand, CommandError

from cxplatform.models import Organization
from feedback import importing


class Command(BaseCommand):
    help = (
        "Import feedback items (reviews, call notes, e-mails…) into the inbox from a CSV or XLSX file with a "
        "'text' column. Bad rows are listed with their row number and skipped; importing the same file again "
        "adds nothing (rows are keyed by source_id, or by their content)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="organization slug")
        parser.add_argument("--json", action="store_true", help="print the report as JSON")
        parser.add_argument("file", help="path of a .csv or .xlsx file")

    def handle(self, *args, org, file, **options):
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"No organization with slug {org!r}.")
        try:
            with open(file, "rb") as fileobj:
                report = importing.import_items(organization, fileobj, os.path.basename(file))
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror or exc}") from None
        except importing.ImportFileError as exc:
            raise CommandError(f"{file}: {exc}") from None
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
            return
        for error in report.errors:
            self.stdout.write(f"row {error['row']}: {'; '.join(error['errors'])}")
        if report.ignored_columns:
            self.stdout.write(f"ignored columns: {', '.join(report.ignored_columns)}")
        self.stdout.write(self.style.SUCCESS(
            f"{os.path.basename(file)}: {report.created} created, {report.existing} already there, "
            f"{report.error_rows} rows with errors."))
