from cxplatform.management.import_command import ImportCommand
from feedback import importing


class Command(ImportCommand):
    help = (
        "Import feedback items (reviews, call notes, e-mails…) into the inbox from a CSV or XLSX file with a "
        "'text' column. Bad rows are listed with their row number and skipped; importing the same file again "
        "adds nothing (rows are keyed by source_id, or by their content)."
    )
    file_error = importing.ImportFileError

    def run(self, organization, fileobj, name):
        return importing.import_items(organization, fileobj, name)

    def summary(self, report) -> str:
        return f"{report.created} created, {report.existing} already there, {report.error_rows} rows with errors."
