"""The page's list upload: a CSV/XLSX of people becomes a LIST audience. Reading, matching and
upserting are `contact_lists` — the one implementation, shared with `manage.py invite` — here
read in the request within `MAX_ROWS` (bigger lists go through the background customer import),
and the file's whole outcome is one transaction: a file refused whole writes nothing, a bad row
is reported with its line (as the spreadsheet shows it) and its reason."""

from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _

from cxplatform import tabular

from . import contact_lists
from .models import Audience

MAX_ROWS = 20_000
MAX_BYTES = 10 * 1024 * 1024
LIMITS = tabular.Limits(rows=MAX_ROWS)


@dataclass
class ListReport:
    audience: Audience | None = None
    taken: int = 0
    created: int = 0
    refused: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)
    ignored_columns: list[str] = field(default_factory=list)


def import_list(*, organization, name: str, upload, file_name: str, user=None) -> ListReport:
    """Make a list audience `name` of the file's people (see the module's docstring)."""
    contacts, errors = contact_lists.read(upload, file_name, limits=LIMITS)
    result = contact_lists.ContactList(errors=list(errors))
    report = ListReport()
    with transaction.atomic():
        contact_lists.upsert(organization=organization, contacts=contacts, result=result)
        if result.customer_ids:
            report.audience = contact_lists.make_audience(organization=organization, name=name,
                                                          customer_ids=result.customer_ids, user=user)
    report.taken, report.created = len(result.customer_ids), result.created
    report.refused = sorted([
        *result.errors,
        *((line, _("The same customer is already in row %(row)d.") % {"row": first})
          for line, first in result.duplicates),
    ])
    return report
