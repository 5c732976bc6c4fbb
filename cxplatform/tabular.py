"""Reading a spreadsheet someone uploads — CSV (UTF-8, comma or semicolon) or XLSX — as rows of
cells, streamed, with row numbers as the spreadsheet shows them (the header is row 1). Shared by
every import (survey responses, inbox items, customers). Formulas are never evaluated: a workbook
is read with `data_only`, which gives the value the spreadsheet program saved.

Every file is read within fixed bounds of memory and time (`Limits`, one set for every import),
and a file beyond them is refused whole with a message saying which bound it crossed:

- CSV is streamed line by line: a line, a cell, the rows (blank ones count too), the columns of
  a row and the filled cells of the file are capped while reading, so nothing is held but the
  current row.
- XLSX is a zip of XML parts, and openpyxl, even in read-only mode, holds some of them whole: all
  shared strings, each `<row>` element with every cell in it, a sheet's parts outside its rows,
  and at load it walks every sheet that declares no size. So a workbook is inspected before
  openpyxl opens it: the zip's directory (parts, sizes, compression ratio) without unpacking
  anything, then every XML part openpyxl will read streamed through expat with counters only (no
  tree, no text kept): rows, including blank rows and the gaps a row number can jump, cells and column positions
  per row, the bytes of one row and of one shared string, the shared strings' count, and what
  openpyxl would keep outside rows. The header is read by the same pass, so checking an upload
  never runs openpyxl at all; the import job does, on a workbook already known to fit.
"""

import csv
import io
import logging
import os
import posixpath
import re
import struct
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from xml.parsers import expat
from zlib import error as zlib_error

from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

EXTENSIONS = {".csv": "csv", ".xlsx": "xlsx"}
_DOTTED_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?")
MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """What one import reads at most. The figures and why they are what they are: ADR 0013."""

    rows: int = 100_000  # rows below the header, blank rows included
    columns: int = 1_000  # position of a row's last cell (a CX import has tens)
    cells: int = 2_000_000  # filled cells in the file: 100,000 rows of 20 columns
    line_chars: int = MiB  # one physical line of a CSV file
    # XLSX: the package
    parts: int = 1_000  # zip members (a workbook has a dozen, a few hundred with many sheets and images)
    central_directory_bytes: int = MiB
    unpacked_bytes: int = 160 * MiB  # all parts together
    sheet_bytes: int = 128 * MiB  # one worksheet part (streamed: this bounds time, not memory)
    shared_strings_bytes: int = 64 * MiB  # held whole by openpyxl: this bounds memory
    other_part_bytes: int = 16 * MiB  # styles, theme, workbook, images…
    compression_ratio: int = 100  # a sheet deflates 10–20:1; a zip bomb 1,000:1
    ratio_checked_from: int = MiB  # tiny parts compress absurdly well and cost nothing
    # XLSX: inside the XML parts
    shared_strings: int = 500_000  # different texts (openpyxl keeps each as a str in a list)
    text_bytes: int = 512 * 1024  # one shared string; a spreadsheet cell holds at most 32,767 characters
    row_bytes: int = 4 * MiB  # one <row> element, built whole by openpyxl
    row_elements: int = 20_000  # elements in one row (cells, values, rich-text runs)
    loose_elements: int = 100_000  # elements of one part openpyxl keeps (outside rows and strings)
    gap_bytes: int = 4 * MiB  # text or attributes between two elements outside rows


LIMITS = Limits()


class ImportFileError(Exception):
    """The whole file is rejected (unreadable, not CSV/XLSX, required columns missing, too large)."""


class TabularLimitError(ImportFileError):
    """The file is beyond one of the reading limits; nothing of it is imported."""


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


def _number(value: int) -> str:
    return number_format(value, force_grouping=True)


# --- Writing: every export's cells ------------------------------------------------------------

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
FORMULA_FIRST = frozenset(FORMULA_PREFIXES)  # each prefix is one character


def neutralise(value):
    """`value` made safe for a spreadsheet cell: text that a spreadsheet would read as a formula
    gets a leading apostrophe, so it shows as typed and never runs. Other values pass unchanged.
    Every export writes its cells through it (survey responses, the audit log)."""
    if isinstance(value, str) and value[:1] in FORMULA_FIRST:
        return "'" + value
    return value


# --- The refusals, in the reader's language ----------------------------------------------------

def too_many_rows(limits: Limits) -> TabularLimitError:
    return TabularLimitError(
        _("The file has more than %(limit)s rows (blank rows count too); split it into smaller files.")
        % {"limit": _number(limits.rows)})


def too_many_columns(row: int | None, limits: Limits) -> TabularLimitError:
    if row is None:
        return TabularLimitError(_("The file has more than %(limit)s columns; a file to import may have at most "
                                   "%(limit)s.") % {"limit": _number(limits.columns)})
    return TabularLimitError(
        _("Row %(row)s has more than %(limit)s columns; a file to import may have at most %(limit)s.")
        % {"row": _number(row), "limit": _number(limits.columns)})


def too_many_cells(limits: Limits) -> TabularLimitError:
    return TabularLimitError(
        _("The file has more than %(limit)s filled cells; split it into smaller files.")
        % {"limit": _number(limits.cells)})


def _unusual_workbook() -> TabularLimitError:
    return TabularLimitError(
        _("The workbook holds data in a form spreadsheet programs do not write, so it was not opened. "
          "Save the sheet as “CSV UTF-8” and import that file."))


def _unreadable_workbook() -> ImportFileError:
    return ImportFileError(_("The file could not be read as an Excel workbook (.xlsx)."))


# --- CSV -----------------------------------------------------------------------------------------

class _Budget:
    """Rows, columns and filled cells read so far, against the limits (both formats)."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.last_row, self.columns, self.cells_left = limits.rows + 1, limits.columns, limits.cells

    def count(self, number: int, values) -> None:
        if number > self.last_row:
            raise too_many_rows(self.limits)
        width = len(values)
        if width > self.columns and not blank_row(values[self.columns:]):
            raise too_many_columns(number, self.limits)
        # Counted in C: CSV cells are strings, a workbook's are None when empty.
        self.cells_left -= width - values.count("") - values.count(None)
        if self.cells_left < 0:
            raise too_many_cells(self.limits)


def _bounded_lines(text, limits: Limits, budget: "_CsvPosition") -> Iterator[str]:
    """The file's physical lines, refusing one longer than the limit before it is read whole."""
    limit = limits.line_chars
    readline = text.readline
    while True:
        line = readline(limit + 1)
        if not line:
            return
        if len(line) > limit and not line.endswith(("\n", "\r")):
            raise TabularLimitError(
                _("Row %(row)s is longer than %(limit)s characters.")
                % {"row": _number(budget.number + 1), "limit": _number(limit)})
        yield line


@dataclass
class _CsvPosition:
    number: int = 0  # the last record read


class _CsvTable:
    def __init__(self, fileobj, limits: Limits):
        self.limits = limits
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
        self._estimate = None

    def records(self) -> Iterator[tuple[int, list]]:
        """(row number, cells) of every record, the header being row 1, within the limits."""
        self.fileobj.seek(0)
        text = io.TextIOWrapper(self.fileobj, encoding="utf-8-sig", newline="")
        position, budget = _CsvPosition(), _Budget(self.limits)
        try:
            reader = csv.reader(_bounded_lines(text, self.limits, position), delimiter=self.delimiter)
            for record in reader:
                position.number += 1
                budget.count(position.number, record)
                yield position.number, record
        except UnicodeDecodeError:
            raise ImportFileError(
                _("Row %(row)d: the file is not UTF-8 text. Save it as “CSV UTF-8” and try again.")
                % {"row": position.number + 1}
            ) from None
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                raise TabularLimitError(
                    _("Row %(row)s has a cell longer than %(limit)s characters.")
                    % {"row": _number(position.number + 1), "limit": _number(csv.field_size_limit())}
                ) from None
            raise ImportFileError(_("Row %(row)d is not valid CSV: %(error)s")
                                  % {"row": position.number + 1, "error": exc}) from None
        finally:
            text.detach()  # closing the wrapper would close the caller's file

    def header(self) -> list:
        records = self.records()
        try:
            first = next(records, None)
            if first is not None:
                return first[1]
        finally:
            records.close()
        return []

    def estimate(self) -> int:
        """Data rows, counted in a full pass: cheap for CSV, and it proves the whole file decodes and
        stays within the limits before a single row is imported."""
        if self._estimate is None:
            self._estimate = sum(1 for number, values in self.records() if number > 1 and not blank_row(values))
        return self._estimate

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


# --- XLSX: the package, inspected before openpyxl opens it --------------------------------------

SHARED_STRINGS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
# openpyxl's own order of preference for the workbook part (reader/excel.py, _find_workbook_part).
WORKBOOK_TYPES = (
    "application/vnd.ms-excel.template.macroEnabled.main+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml",
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
)
WORKSHEET_REL = "/worksheet"
_CHUNK = MiB
_EOCD = struct.Struct("<4s4H2LH")
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")

# Elements that live inside a cell, or inside one shared string: openpyxl drops them with their row
# or string. Any other element inside a row ends our idea of the row (counted as kept, the safe side).
_TEXT_PARTS = frozenset((
    "t", "r", "rPr", "rPh", "phoneticPr", "rFont", "charset", "family", "b", "i", "strike", "outline",
    "shadow", "condense", "extend", "color", "sz", "u", "vertAlign", "scheme",
))
_CELL_PARTS = _TEXT_PARTS | {"v", "f", "is"}
_REFERENCE = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d+)")  # openpyxl reads no more than three letters


@dataclass
class Inspection:
    """What the pass over the workbook found: the first sheet's header and data rows."""

    header: list = field(default_factory=list)
    data_rows: int = 0


def _check_directory(raw, limits: Limits) -> None:
    """The zip's member count and directory size, read from its end record before zipfile builds an
    object per member (a 50 MB upload can name a million of them)."""
    raw.seek(0, os.SEEK_END)
    size = raw.tell()
    tail_length = min(size, _EOCD.size + 65_535)
    raw.seek(size - tail_length)
    tail = raw.read(tail_length)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < _EOCD.size:
        raise _unreadable_workbook()
    _sig, _disk, _cd_disk, _here, entries, directory_bytes, _offset, _comment = _EOCD.unpack_from(tail, at)
    locator_at = at - _ZIP64_LOCATOR.size
    if locator_at >= 0 and tail[locator_at:locator_at + 4] == b"PK\x06\x07":
        # zip64: the real counts are in a record of their own, which zipfile would believe.
        _sig, _disk, record_offset, _disks = _ZIP64_LOCATOR.unpack_from(tail, locator_at)
        raw.seek(record_offset)
        record = raw.read(_ZIP64_EOCD.size)
        if len(record) < _ZIP64_EOCD.size or record[:4] != b"PK\x06\x06":
            raise _unreadable_workbook()
        values = _ZIP64_EOCD.unpack(record)
        entries, directory_bytes = max(entries, values[7]), max(directory_bytes, values[8])
    if entries > limits.parts or entries == 0xFFFF:
        raise TabularLimitError(
            _("The workbook has more than %(limit)s parts, so it was not opened. "
              "Save the sheet as “CSV UTF-8” and import that file.") % {"limit": _number(limits.parts)})
    if directory_bytes > limits.central_directory_bytes:
        raise _unusual_workbook()
    raw.seek(0)


def _part_too_large(info: zipfile.ZipInfo, limit: int) -> TabularLimitError:
    return TabularLimitError(
        _("The workbook unpacks %(part)s to %(size)s MB, more than the %(limit)s MB an import reads. "
          "Split it into smaller files, or save the sheet as “CSV UTF-8” and import that file.")
        % {"part": info.filename[:100], "size": _number(-(-info.file_size // MiB)), "limit": _number(limit // MiB)})


def _check_members(archive: zipfile.ZipFile) -> None:
    for info in archive.infolist():
        if info.flag_bits & 0x1:
            raise ImportFileError(_("The workbook is protected with a password; save a copy without one."))
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _unusual_workbook()


def _check_sizes(archive: zipfile.ZipFile, package: "_Package", limits: Limits) -> None:
    """Sizes and ratios as the directory declares them, before a byte is unpacked. zipfile stops a
    member at its declared size and checks its CRC, so a part that lies about its size fails to
    read: it cannot grow past what was checked here."""
    total = 0
    for info in archive.infolist():
        if info.filename == package.shared_strings:
            cap = limits.shared_strings_bytes
        elif info.filename in package.worksheets:
            cap = limits.sheet_bytes
        else:
            cap = limits.other_part_bytes
        if info.file_size > cap:
            raise _part_too_large(info, cap)
        if (info.file_size > limits.ratio_checked_from
                and info.file_size > limits.compression_ratio * max(info.compress_size, 1)):
            raise TabularLimitError(
                _("The workbook is packed unusually tightly (%(part)s unpacks %(ratio)s times larger), as zip bombs "
                  "are, so it was not opened. Save the sheet as “CSV UTF-8” and import that file.")
                % {"part": info.filename[:100], "ratio": _number(info.file_size // max(info.compress_size, 1))})
        total += info.file_size
    if total > limits.unpacked_bytes:
        raise TabularLimitError(
            _("The workbook unpacks to more than %(limit)s MB. Split it into smaller files, or save the sheet as "
              "“CSV UTF-8” and import that file.") % {"limit": _number(limits.unpacked_bytes // MiB)})


class _PartScan:
    """One XML part streamed through expat, keeping counters only.

    `role` says what openpyxl does with the part, which decides what it keeps in memory:
    "sheet" (rows are built one at a time and dropped), "strings" (each <si> is built and kept as
    one str) or "other" (the whole tree is built). Handlers see start tags only (end tags would
    double the cost of the pass): a row or a string lasts until the next one, or until an element
    that cannot be inside it. Names are compared without their prefix, so `<x:c>` is a cell too.
    """

    def __init__(self, limits: Limits, role: str, *, header: bool = False, wanted_strings=None, collect=None):
        self.limits, self.role = limits, role
        self.max_columns, self.max_cells = limits.columns, limits.cells
        self.max_row_bytes, self.max_row_elements = limits.row_bytes, limits.row_elements
        self.parser = parser = expat.ParserCreate()
        parser.StartElementHandler = {"sheet": self._sheet_start, "strings": self._strings_start}.get(
            role, self._other_start)
        parser.StartDoctypeDeclHandler = self._doctype
        parser.EntityDeclHandler = self._doctype
        self.collect = collect  # (name, attributes) of every element, for the small parts we resolve
        self.loose = 0
        self.last_start = 0
        # sheet
        self.row_number = 0
        self.rows = 0
        self.in_row = False
        self.row_start = 0
        self.row_elements = 0
        self.row_cells = 0
        self.column = 0
        self.cells = 0
        self.row_has_value = False
        self.data_rows = 0
        # the header (row 1 of the first sheet), read as the pass goes by
        self.want_header = header
        self.header_cells: list[tuple[int, str, list]] = []  # (column, type, text parts)
        self.capture = None
        self.capture_depth = 0
        # strings
        self.strings = 0
        self.in_string = False
        self.string_start = 0
        self.string_elements = 0
        self.wanted_strings = wanted_strings or {}

    # -- feeding

    def scan(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> "_PartScan":
        try:
            with archive.open(info) as member:
                while True:
                    chunk = member.read(_CHUNK)
                    if not chunk:
                        break
                    self.parser.Parse(chunk, False)
                self.parser.Parse(b"", True)
        except expat.ExpatError as exc:
            logger.info("unreadable workbook part %s: %s", info.filename, exc)
            raise _unreadable_workbook() from None
        except (zipfile.BadZipFile, OSError, EOFError, zlib_error) as exc:
            logger.info("unreadable workbook part %s: %r", info.filename, exc)
            raise _unreadable_workbook() from None
        self._end_of_part(info.file_size)
        return self

    def _doctype(self, *args):
        raise _unusual_workbook()  # no spreadsheet program writes a DTD; entity tricks start there

    def _gap(self, position: int) -> None:
        if position - self.last_start > self.limits.gap_bytes:
            raise _unusual_workbook()
        self.last_start = position

    def _keep(self) -> None:
        self.loose += 1
        if self.loose > self.limits.loose_elements:
            raise _unusual_workbook()

    def _end_of_part(self, size: int) -> None:
        if self.in_row:
            self._end_row(size)
        elif self.in_string:
            self._end_string(size)
        else:
            self._gap(size)

    # -- other parts: openpyxl builds their whole tree

    def _other_start(self, name, attributes):
        self._gap(self.parser.CurrentByteIndex)
        self._keep()
        if self.collect is not None:
            self.collect(name.rpartition(":")[2], attributes)

    # -- worksheets

    def _sheet_start(self, name, attributes):
        # The hot path of the whole inspection (two calls per cell): kept flat on purpose.
        if ":" in name:
            name = name.rpartition(":")[2]
        if self.in_row:
            if name == "c":
                self.row_cells += 1
                self.cells += 1
                reference = attributes.get("r")
                if not reference:
                    self.column += 1
                elif reference[1:2].isdigit():  # one letter: A–Z
                    self.column = ord(reference[0]) & 0x1F
                else:  # openpyxl pads the row up to this column: read the letters
                    match = _REFERENCE.match(reference)
                    if match is None:
                        raise _unreadable_workbook()
                    self.column = _column_index(match.group(1))
                if self.column > self.max_columns or self.row_cells > self.max_columns:
                    raise too_many_columns(self.row_number, self.limits)
                if self.cells > self.max_cells:
                    raise too_many_cells(self.limits)
                if self.capture is not None:
                    self.header_cells.append((self.column, attributes.get("t", "n"), []))
            elif name in _CELL_PARTS:
                if name == "v" or name == "is":
                    self.row_has_value = True
                if self.capture is not None:
                    self._capture_start(name)
            else:
                position = self.parser.CurrentByteIndex
                self._end_row(position)
                if name == "row":
                    self._start_row(attributes, position)
                else:
                    self._sheet_other(name, attributes, position)
                return
            self.row_elements += 1
            if self.row_elements > self.max_row_elements:
                self._row_too_large()
            return
        position = self.parser.CurrentByteIndex
        if name == "row":
            self._gap(position)
            self._start_row(attributes, position)
        else:
            self._sheet_other(name, attributes, position)

    def _sheet_other(self, name, attributes, position):
        self._gap(position)
        self._keep()
        if name == "dimension":
            self._declared_dimension(attributes.get("ref", ""))

    def _declared_dimension(self, ref: str) -> None:
        """A sheet says its size up front: believed when it is too large, never when it is small."""
        match = _REFERENCE.match(ref.rpartition(":")[2])
        if match is None:
            return
        letters, digits = match.groups()
        if len(digits) > 9 or int(digits) > self.limits.rows + 1:
            raise too_many_rows(self.limits)
        if _column_index(letters) > self.limits.columns:
            raise too_many_columns(None, self.limits)

    def _start_row(self, attributes, position):
        number = attributes.get("r")
        if number is None:
            number = self.row_number + 1
        elif len(number) > 15:
            raise too_many_rows(self.limits)
        else:
            try:
                number = int(number)
            except ValueError:
                try:  # openpyxl takes "5.0" as row 5
                    as_float = float(number)
                except ValueError:
                    raise _unreadable_workbook() from None
                if not as_float.is_integer():
                    raise _unreadable_workbook() from None
                number = int(as_float)
        self.rows += 1
        # A row number that jumps ahead makes openpyxl yield every row in between, blank.
        self.row_number = max(number, self.row_number)
        if self.row_number > self.limits.rows + 1 or self.rows > self.limits.rows + 1:
            raise too_many_rows(self.limits)
        self.in_row = True
        self.row_start = self.last_start = position
        self.row_elements = self.row_cells = self.column = 0
        self.row_has_value = False
        if self.want_header:
            self.want_header = False
            if number == 1:
                self._capture_header()

    def _end_row(self, position):
        if position - self.row_start > self.limits.row_bytes:
            self._row_too_large()
        if self.row_has_value and self.row_number > 1:
            self.data_rows += 1
        self.in_row = False
        self.last_start = position
        if self.capture is not None:
            self._stop_capture()

    def _row_too_large(self):
        raise TabularLimitError(
            _("Row %(row)s of the workbook is larger than %(limit)s MB.")
            % {"row": _number(self.row_number), "limit": _number(self.limits.row_bytes // MiB)})

    # -- the header's text: end tags and character data are listened to during row 1 only

    def _capture_header(self):
        self.capture = []  # the text parts of the element being read, or None between them
        self.capture_depth = 0
        self.parser.EndElementHandler = self._capture_end
        self.parser.CharacterDataHandler = self._capture_text

    def _capture_start(self, name):
        if not self.header_cells:
            return
        if name == "rPh":
            self.capture_depth = -1  # phonetic runs are not part of the text (openpyxl skips them too)
        elif self.capture_depth >= 0 and name in ("v", "t"):
            self.capture_depth = 1

    def _capture_end(self, name):
        if ":" in name:
            name = name.rpartition(":")[2]
        if name in ("v", "t") and self.capture_depth == 1 or name == "rPh":
            self.capture_depth = 0
        elif name == "row":
            self._stop_capture()

    def _capture_text(self, text):
        if self.capture_depth == 1 and self.header_cells:
            self.header_cells[-1][2].append(text)

    def _stop_capture(self):
        self.capture = None
        self.parser.EndElementHandler = None
        self.parser.CharacterDataHandler = None

    # -- shared strings

    def _strings_start(self, name, attributes):
        if ":" in name:
            name = name.rpartition(":")[2]
        position = self.parser.CurrentByteIndex
        if self.in_string:
            if name in _TEXT_PARTS:
                self.string_elements += 1
                if (self.string_elements > self.limits.row_elements
                        or position - self.string_start > self.limits.text_bytes):
                    self._string_too_large()
                if self.capture is not None:
                    if name == "rPh":
                        self.capture_depth = -1
                    elif name == "t" and self.capture_depth >= 0:
                        self.capture_depth = 1
                return
            self._end_string(position)
        if name == "si":
            self._gap(position)
            self.strings += 1
            if self.strings > self.limits.shared_strings:
                raise TabularLimitError(
                    _("The workbook holds more than %(limit)s different texts; split it into smaller files, "
                      "or save the sheet as “CSV UTF-8” and import that file.")
                    % {"limit": _number(self.limits.shared_strings)})
            self.in_string = True
            self.string_start = self.last_start = position
            self.string_elements = 0
            if (self.strings - 1) in self.wanted_strings:
                self.capture = []
                self.capture_depth = 0
                self.parser.EndElementHandler = self._string_capture_end
                self.parser.CharacterDataHandler = self._string_capture_text
        else:
            self._gap(position)
            self._keep()

    def _string_capture_end(self, name):
        if ":" in name:
            name = name.rpartition(":")[2]
        if name == "t" and self.capture_depth == 1 or name == "rPh":
            self.capture_depth = 0
        elif name == "si":
            self.wanted_strings[self.strings - 1] = "".join(self.capture).replace("x005F_", "")
            self.capture = None
            self.parser.EndElementHandler = None
            self.parser.CharacterDataHandler = None

    def _string_capture_text(self, text):
        if self.capture_depth == 1:
            self.capture.append(text)

    def _end_string(self, position):
        if position - self.string_start > self.limits.text_bytes:
            self._string_too_large()
        self.in_string = False
        self.last_start = position

    def _string_too_large(self):
        raise TabularLimitError(
            _("A cell of the workbook holds more than %(limit)s KB of text; a spreadsheet cell holds at most "
              "32,767 characters.") % {"limit": _number(self.limits.text_bytes // 1024)})


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters.upper():
        index = index * 26 + ord(letter) - 64
    return index


@dataclass
class _Package:
    """The parts openpyxl will read, found the way openpyxl finds them."""

    shared_strings: str | None = None
    worksheets: list[str] = field(default_factory=list)  # every sheet openpyxl opens at load
    first_sheet: str | None = None
    chartsheets: list[str] = field(default_factory=list)


def _scan_small(archive, name, limits, collect) -> None:
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise _unreadable_workbook() from None
    if info.file_size > limits.other_part_bytes:
        raise _part_too_large(info, limits.other_part_bytes)
    _PartScan(limits, "other", collect=collect).scan(archive, info)


def _resolve(archive: zipfile.ZipFile, limits: Limits) -> _Package:
    """[Content_Types].xml names the workbook and shared strings parts, the workbook's relations
    name its sheets, and workbook.xml orders them: read with the same scanner and limits."""
    overrides, defaults = [], []

    def content_types(name, attributes):
        if name == "Override":
            overrides.append((attributes.get("PartName", ""), attributes.get("ContentType", "")))
        elif name == "Default":
            defaults.append(attributes.get("ContentType", ""))

    _scan_small(archive, "[Content_Types].xml", limits, content_types)
    package = _Package()
    strings = next((part for part, kind in overrides if kind == SHARED_STRINGS_TYPE), None)
    if strings is not None:
        package.shared_strings = strings[1:]
    workbook = None
    for kind in WORKBOOK_TYPES:
        workbook = next((part[1:] for part, part_kind in overrides if part_kind == kind), None)
        if workbook:
            break
    if workbook is None:
        if not set(defaults) & set(WORKBOOK_TYPES):
            raise _unreadable_workbook()
        workbook = "xl/workbook.xml"

    folder, base = posixpath.split(workbook)
    relations = {}

    def workbook_relations(name, attributes):
        if name == "Relationship" and attributes.get("TargetMode") != "External":
            target = attributes.get("Target", "")
            # As openpyxl's get_dependents resolves it.
            target = target[1:] if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
            relations[attributes.get("Id")] = (attributes.get("Type", ""), target)

    _scan_small(archive, posixpath.join(folder, "_rels", f"{base}.rels"), limits, workbook_relations)
    sheets = []

    def workbook_sheets(name, attributes):
        if name == "sheet":
            sheets.append(next((v for k, v in attributes.items() if k == "id" or k.endswith(":id")), None))

    _scan_small(archive, workbook, limits, workbook_sheets)
    names = set(archive.namelist())
    package.worksheets = sorted({target for kind, target in relations.values()
                                 if kind.endswith(WORKSHEET_REL) and target in names})
    package.chartsheets = sorted({target for kind, target in relations.values()
                                  if kind.endswith("/chartsheet") and target in names})
    for sheet_id in sheets:
        kind, target = relations.get(sheet_id, ("", ""))
        if kind.endswith(WORKSHEET_REL) and target in names:
            package.first_sheet = target
            break
    if package.first_sheet is None:
        raise _unreadable_workbook()
    return package


def inspect_workbook(raw, limits: Limits | None = None) -> Inspection:
    """Everything about a workbook that is checked before openpyxl opens it; see the module's
    docstring. Raises TabularLimitError (or ImportFileError when it is not a workbook)."""
    limits = limits or LIMITS
    _check_directory(raw, limits)
    try:
        archive = zipfile.ZipFile(raw)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        logger.info("unreadable workbook: %r", exc)
        raise _unreadable_workbook() from None
    with archive:
        _check_members(archive)
        package = _resolve(archive, limits)  # reads three small parts, each checked by _scan_small
        if package.shared_strings is not None and package.shared_strings not in archive.namelist():
            raise _unreadable_workbook()
        _check_sizes(archive, package, limits)
        inspection = Inspection()
        header_cells = []
        for name in package.worksheets:
            first = name == package.first_sheet
            scan = _PartScan(limits, "sheet", header=first).scan(archive, archive.getinfo(name))
            if first:
                inspection.data_rows, header_cells = scan.data_rows, scan.header_cells
        wanted = {}
        for _column, kind, text in header_cells:
            if kind == "s":
                try:
                    wanted[int("".join(text))] = None
                except ValueError:
                    raise _unreadable_workbook() from None
        if package.shared_strings is not None:
            _PartScan(limits, "strings", wanted_strings=wanted).scan(archive, archive.getinfo(package.shared_strings))
        # The other parts openpyxl reads in read-only mode (external links it is told to skip);
        # the rest of the package (drawings, pivot caches, VML…) it never opens.
        read = {"xl/styles.xml", "docProps/core.xml", "docProps/custom.xml", *package.chartsheets,
                *(posixpath.join(posixpath.dirname(sheet), "_rels", f"{posixpath.basename(sheet)}.rels")
                  for sheet in package.worksheets)}
        names = set(archive.namelist())
        if package.chartsheets:  # a chartsheet's drawings and charts are read with it
            read |= {name for name in names if name.startswith(("xl/drawings/", "xl/charts/"))}
        for name in sorted(read & names):
            _PartScan(limits, "other").scan(archive, archive.getinfo(name))
        inspection.header = _header_values(header_cells, wanted)
    raw.seek(0)
    return inspection


def _header_values(cells, strings: dict) -> list:
    """Row 1 as openpyxl would give it: shared strings looked up, numbers as numbers, gaps as None."""
    values: list = []
    for column, kind, parts in cells:
        text = "".join(parts)
        if kind == "s":
            value = strings.get(int(text)) if text else None
        elif kind in ("inlineStr", "str", "e", "d"):
            value = text or None
        elif kind == "b":
            value = text.strip() == "1" if text else None
        elif not text:
            value = None
        else:
            try:
                value = float(text) if any(c in text for c in ".eE") else int(text)
            except ValueError:
                value = text
        while len(values) < column - 1:
            values.append(None)
        if column - 1 < len(values):
            values[column - 1] = value
        else:
            values.append(value)
    return values


class _XlsxTable:
    def __init__(self, fileobj, limits: Limits):
        self.limits = limits
        self.raw = _raw(fileobj)
        self.raw.seek(0)
        self.inspection = inspect_workbook(self.raw, limits)
        self.workbook = None

    def _sheet(self):
        from openpyxl import load_workbook

        self.raw.seek(0)
        try:
            # keep_links=False: external links carry cached copies of other workbooks, unread here.
            self.workbook = load_workbook(self.raw, read_only=True, data_only=True, keep_links=False)
            sheet = self.workbook.worksheets[0]
        except (zipfile.BadZipFile, KeyError, ValueError, OSError, IndexError, TypeError) as exc:
            logger.info("unreadable workbook: %r", exc)
            raise _unreadable_workbook() from None
        # Some writers declare a wrong size, and openpyxl would stop reading at it: read every row.
        sheet.reset_dimensions()
        return sheet

    def records(self) -> Iterator[tuple[int, list]]:
        budget = _Budget(self.limits)
        try:
            sheet = self._sheet() if self.workbook is None else self.workbook.worksheets[0]
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                budget.count(number, values)  # known to hold after the inspection; kept as a second guard
                yield number, list(values)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
            logger.info("unreadable workbook rows: %r", exc)
            raise _unreadable_workbook() from None

    def header(self) -> list:
        return list(self.inspection.header)

    def estimate(self) -> int:
        """Data rows (rows below the header with a value), counted by the inspection."""
        return self.inspection.data_rows

    def close(self):
        if self.workbook is not None:
            self.workbook.close()


@contextmanager
def open_table(fileobj, name: str, *, limits: Limits | None = None):
    """The file as a table; a workbook is inspected here (see the module's docstring)."""
    limits = limits or LIMITS  # looked up now, so a test may lower the limits
    kind = file_kind(name)
    table = _CsvTable(fileobj, limits) if kind == "csv" else _XlsxTable(fileobj, limits)
    try:
        yield table
    finally:
        table.close()


def header(table) -> list:
    values = table.header()
    if not values or blank_row(values):
        # The header must be the first row: row numbers in reports count from it.
        raise ImportFileError(_("The file is empty, or its first row does not name the columns."))
    return values


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
