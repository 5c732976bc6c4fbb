"""What every `import_*` command shares: the organization by slug, the file, the row report."""

import json
import os

from django.core.management.base import BaseCommand, CommandError

from cxplatform.models import Organization


class ImportCommand(BaseCommand):
    """A subclass names `file_error` (the exception that rejects a whole file) and writes
    `run(organization, fileobj, name)`, returning a report with `as_dict()`, `errors` and
    `ignored_columns`, and `summary(report)`, its last line."""

    file_error: type[Exception] = Exception

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="organization slug")
        parser.add_argument("--json", action="store_true", help="print the report as JSON")
        parser.add_argument("file", help="path of a .csv or .xlsx file")

    def run(self, organization, fileobj, name):
        raise NotImplementedError

    def summary(self, report) -> str:
        raise NotImplementedError

    def handle(self, *args, org, file, **options):
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"No organization with slug {org!r}.")
        try:
            with open(file, "rb") as fileobj:
                report = self.run(organization, fileobj, os.path.basename(file))
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror or exc}") from None
        except self.file_error as exc:
            raise CommandError(f"{file}: {exc}") from None
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
            return
        for error in report.errors:
            self.stdout.write(f"row {error['row']}: {'; '.join(error['errors'])}")
        if report.ignored_columns:
            self.stdout.write(f"ignored columns: {', '.join(report.ignored_columns)}")
        self.stdout.write(self.style.SUCCESS(f"{os.path.basename(file)}: {self.summary(report)}"))
