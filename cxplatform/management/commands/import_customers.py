from cxplatform.management.import_command import ImportCommand
from cxplatform.models import CustomerImportJob


class Command(ImportCommand):
    help = (
        "Import customers (revenue, active/cancelled dates, segment attributes) from a CSV or XLSX file. "
        "Customers are matched by external_id and updated; bad rows are listed with their row number and "
        "skipped; importing the same file again changes nothing."
    )
    job_model = CustomerImportJob

    def summary(self, job) -> str:
        return (f"{job.imported_rows} created, {job.updated_rows} updated, {job.duplicate_rows} unchanged, "
                f"{job.error_rows} rows with errors.")
