from cxplatform.management.import_command import ImportCommand
from feedback.models import FeedbackImportJob


class Command(ImportCommand):
    help = (
        "Import feedback items (reviews, call notes, e-mails…) into the inbox from a CSV or XLSX file with a "
        "'text' column. Bad rows are listed with their row number and skipped; importing the same file again "
        "adds nothing (rows are keyed by source_id, or by their content)."
    )
    job_model = FeedbackImportJob

    def summary(self, job) -> str:
        return f"{job.imported_rows} created, {job.duplicate_rows} already there, {job.error_rows} rows with errors."
