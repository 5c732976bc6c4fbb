from cxplatform import customer_import
from cxplatform.management.import_command import ImportCommand


class Command(ImportCommand):
    help = (
        "Import customers (revenue, active/cancelled dates, segment attributes) from a CSV or XLSX file. "
        "Customers are matched by external_id and updated; bad rows are listed with their row number and "
        "skipped; importing the same file again changes nothing."
    )
    file_error = customer_import.ImportFileError

    def run(self, organization, fileobj, name):
        return customer_import.import_customers(organization, fileobj, name)

    def summary(self, report) -> str:
        return (f"{report.created} created, {report.updated} updated, {report.unchanged} unchanged, "
                f"{report.error_rows} rows with errors.")
