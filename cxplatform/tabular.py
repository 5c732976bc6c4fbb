"""Reading a spreadsheet someone uploads — CSV (UTF-8, comma or semicolon) or XLSX — as rows of
cells, streamed, with row numbers as the spreadsheet shows them (the header is row 1). Shared by
every import (survey responses, inbox items). Formulas are never evaluated: a workbook is read
with `data_only`, which gives the value the spreadsheet program saved.
"""

import csv
import io
import logging
import os
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time

from django.utils import timezone
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

EXTENSIONS = {".csv": "csv", ".xlsx": "xlsx"}
_DOTTED_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?")


class ImportFileError(Exception):
    """The whole file is rejected (unreadable, not CSV/XLSX, required columns missing)."""



def file_kind(name: str) -> str:
    kind = EXTENSIONS.get(os.path.splitext(name or "")[1].lower())
    if kind is None:
        raise ImportFileError(_("Only .csv and .xlsx files can be imported."))
    return kind


def _raw(fileobj):
    """The plain binary file under Django's File wrappers (TextIOWrapper and openpyxl need it)."""
    while hasattr(fileobj, "file") and fileobj.file is not None and fileobj.file is not fileobj:
        fileobj = fileobj.file
    return fileobj


def blank_row(values) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


class _CsvTable:
    def __init__(self, fileobj):
        self.fileobj = _raw(fileobj)
        self.fileobj.seek(0)
        sample = self.fileobj.read(64 * 1024)
        try:
            text = sample.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            if exc.start < len(sample) - 3:  # not just a character cut in two at the sample's end
                raise ImportFileError(_("The file is not UTF-8 text. Save it as “CSV UTF-8” and try again.")) from None
            text = sample[: exc.start].decode("utf-8-sig")
        self.delimiter = _sniff_delimiter(text)

    def records(self) -> Iterator[tuple[int, list]]:
        """(row number, cells) of every record, the header being row 1."""
        self.fileobj.seek(0)
        text = io.TextIOWrapper(self.fileobj, encoding="utf-8-sig", newline="")
        number = 0
        try:
            for number, record in enumerate(csv.reader(text, delimiter=self.delimiter), start=1):  # noqa: B007
                yield number, record
        except UnicodeDecodeError:
            raise ImportFileError(
                _("Row %(row)d: the file is not UTF-8 text. Save it as “CSV UTF-8” and try again.")
                % {"row": number + 1}
            ) from None
        except csv.Error as exc:
            raise ImportFileError(_("Row %(row)d is not valid CSV: %(error)s") % {"row": number + 1, "error": exc}) \
                from None
        finally:
            text.detach()  # closing the wrapper would close the caller's file

    def estimate(self) -> int:
        """Data rows, counted in a first pass (cheap for CSV; it also proves the whole file decodes)."""
        return sum(1 for number, values in self.records() if number > 1 and not blank_row(values))

    def close(self):
        pass


def _sniff_delimiter(text: str) -> str:
    first_line = text.split("\n", 1)[0]
    commas, semicolons = first_line.count(","), first_line.count(";")
    if commas != semicolons:
        return ";" if semicolons > commas else ","
    try:
        return csv.Sniffer().sniff(text[:8192], delimiters=",;").delimiter
    except csv.Error:
        return ","


class _XlsxTable:
    def __init__(self, fileobj):
        from openpyxl import load_workbook

        raw = _raw(fileobj)
        raw.seek(0)
        try:
            self.workbook = load_workbook(raw, read_only=True, data_only=True)
            self.sheet = self.workbook.worksheets[0]
        except (zipfile.BadZipFile, KeyError, ValueError, OSError, IndexError, TypeError) as exc:
            logger.info("unreadable workbook: %r", exc)
            raise ImportFileError(_("The file could not be read as an Excel workbook (.xlsx).")) from None
        self._declared_rows = self.sheet.max_row
        # Some writers declare a wrong size, and openpyxl would stop reading at it: read every row.
        self.sheet.reset_dimensions()

    def records(self) -> Iterator[tuple[int, list]]:
        try:
            for number, values in enumerate(self.sheet.iter_rows(values_only=True), start=1):
                yield number, list(values)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
            logger.info("unreadable workbook rows: %r", exc)
            raise ImportFileError(_("The file could not be read as an Excel workbook (.xlsx).")) from None

    def estimate(self) -> int:
        """Data rows as the workbook declares them (corrected when the import ends), else a count."""
        if self._declared_rows:
            return max(self._declared_rows - 1, 0)
        return sum(1 for number, values in self.records() if number > 1 and not blank_row(values))

    def close(self):
        self.workbook.close()


@contextmanager
def open_table(fileobj, name: str):
    table = _CsvTable(fileobj) if file_kind(name) == "csv" else _XlsxTable(fileobj)
    try:
        yield table
    finally:
        table.close()


def header(table) -> list:
    records = table.records()
    try:
        for _number, values in records:
            if not blank_row(values):
                return values
            break  # the header must be the first row: row numbers in reports count from it
    finally:
        records.close()
    raise ImportFileError(_("The file is empty, or its first row does not name the columns."))


def cell_text(value) -> str:
    """A cell as text: spreadsheets give numbers and dates, CSV gives strings."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def parse_moment(value, now: datetime) -> datetime:
    """ISO 8601 date or date-time (naive means UTC), DD.MM.YYYY or DD.MM.YYYY HH:MM; not in the future."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time.min)
    else:
        text = cell_text(value)
        if not text:
            raise ValueError(_("The date is missing."))
        moment = None
        dotted = _DOTTED_DATE.fullmatch(text)
        try:
            if dotted:
                day, month, year, hour, minute, second = (int(g) if g else 0 for g in dotted.groups())
                moment = datetime(year, month, day, hour, minute, second)
            else:
                moment = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(
                _("“%(value)s” is not a date: use YYYY-MM-DD, YYYY-MM-DD HH:MM, DD.MM.YYYY or DD.MM.YYYY HH:MM.")
                % {"value": text[:40]}
            ) from None
    moment = moment.replace(tzinfo=UTC) if timezone.is_naive(moment) else moment.astimezone(UTC)
    if moment > now:
        raise ValueError(_("The date %(value)s is in the future.") % {"value": moment.strftime("%Y-%m-%d %H:%M")})
    return moment
