"""Hostile spreadsheets, built part by part as streams, so a test (or `bench/uploads.py`) can make a
workbook that unpacks to hundreds of megabytes while holding only one chunk of it at a time."""

import zipfile
from collections.abc import Iterable, Iterator

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
CHUNK = 1 << 20

SPREADSHEETML = "application/vnd.openxmlformats-officedocument.spreadsheetml"
OFFICE_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"

CONTENT_TYPES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="{SPREADSHEETML}.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{SPREADSHEETML}.worksheet+xml"/>
<Override PartName="/xl/sharedStrings.xml" ContentType="{SPREADSHEETML}.sharedStrings+xml"/>
</Types>""".encode()
ROOT_RELS = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="{PACKAGE_RELS}">
<Relationship Id="rId1" Type="{OFFICE_RELS}/officeDocument" Target="xl/workbook.xml"/>
</Relationships>""".encode()
WORKBOOK = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="{MAIN}" xmlns:r="{RELS}"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>
""".encode()
WORKBOOK_RELS = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="{PACKAGE_RELS}">
<Relationship Id="rId1" Type="{OFFICE_RELS}/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="{OFFICE_RELS}/sharedStrings" Target="sharedStrings.xml"/>
</Relationships>""".encode()


def _buffered(parts: Iterable[bytes]) -> Iterator[bytes]:
    """Many small pieces joined into chunks of about a megabyte (one zlib call each, not millions)."""
    pending, size = [], 0
    for part in parts:
        pending.append(part)
        size += len(part)
        if size >= CHUNK:
            yield b"".join(pending)
            pending, size = [], 0
    if pending:
        yield b"".join(pending)


def _write(archive: zipfile.ZipFile, name: str, parts: Iterable[bytes], compression: int) -> None:
    info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
    info.compress_type = compression
    with archive.open(info, "w") as member:
        for chunk in _buffered(parts):
            member.write(chunk)


def workbook(target, *, rows: Iterable[bytes], strings: Iterable[bytes] = (), strings_count: int = 0,
             sheet_head: bytes = b"", sheet_tail: bytes = b"", sheet_compression: int = zipfile.ZIP_DEFLATED,
             strings_compression: int = zipfile.ZIP_DEFLATED, extra: Iterable[tuple[str, bytes]] = ()):
    """A workbook whose first sheet's <sheetData> is `rows` and whose shared strings are the <si>
    elements `strings`, each written as a stream into `target` (a path or a binary file).
    `sheet_head` and `sheet_tail` go before and after <sheetData>."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        _write(archive, "[Content_Types].xml", [CONTENT_TYPES], zipfile.ZIP_DEFLATED)
        _write(archive, "_rels/.rels", [ROOT_RELS], zipfile.ZIP_DEFLATED)
        _write(archive, "xl/workbook.xml", [WORKBOOK], zipfile.ZIP_DEFLATED)
        _write(archive, "xl/_rels/workbook.xml.rels", [WORKBOOK_RELS], zipfile.ZIP_DEFLATED)
        _write(archive, "xl/worksheets/sheet1.xml", _chain(
            [f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}">'.encode(), sheet_head,
             b"<sheetData>"], rows, [b"</sheetData>", sheet_tail, b"</worksheet>"]), sheet_compression)
        _write(archive, "xl/sharedStrings.xml", _chain(
            [f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}" uniqueCount="{strings_count}">'.encode()],
            strings, [b"</sst>"]), strings_compression)
        for name, data, *compression in extra:
            _write(archive, name, [data], compression[0] if compression else zipfile.ZIP_DEFLATED)


def _chain(*iterables):
    for iterable in iterables:
        yield from iterable


def header_row(*names: str) -> bytes:
    """Row 1 with inline strings."""
    cells = "".join(f'<c r="{_column(i)}1" t="inlineStr"><is><t>{name}</t></is></c>' for i, name in enumerate(names))
    return f'<row r="1">{cells}</row>'.encode()


def _column(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def text_row(number: int, *values: str) -> bytes:
    cells = "".join(f'<c t="inlineStr"><is><t>{value}</t></is></c>' for value in values)
    return f'<row r="{number}">{cells}</row>'.encode()


# --- The files of the issue ------------------------------------------------------------------------

def huge_shared_string(target, size: int, *, compression: int = zipfile.ZIP_DEFLATED) -> None:
    """A header of one column whose only data cell is one shared string of `size` bytes — the 817 KB
    upload that once took a web worker from 133 MB to 1.73 GB."""
    def text():
        yield b'<si><t>'
        piece = b"A" * CHUNK
        left = size
        while left > 0:
            yield piece[:left]
            left -= CHUNK
        yield b"</t></si>"

    workbook(target, rows=[header_row("text"), b'<row r="2"><c r="A2" t="s"><v>0</v></c></row>'],
             strings=text(), strings_count=1, strings_compression=compression)


def wide_row(target, cells: int, *, compression: int = zipfile.ZIP_STORED, cell: bytes = b"<c><v>1</v></c>") -> None:
    """A header, then one row of `cells` cells (stored, so the compression ratio does not refuse it
    first and the cell count must)."""
    workbook(target, rows=_chain([header_row("text"), b'<row r="2">'], (cell for _ in range(cells)), [b"</row>"]),
             sheet_compression=compression)


def blank_rows(target, count: int, *, compression: int = zipfile.ZIP_STORED) -> None:
    """A header, then `count` rows with nothing in them, each written out."""
    workbook(target, rows=_chain([header_row("text")], (b'<row r="%d"/>' % n for n in range(2, count + 2))),
             sheet_compression=compression)


def far_row(target, number: int) -> None:
    """A header and one row numbered `number`: openpyxl would yield every blank row in between."""
    workbook(target, rows=[header_row("text"), text_row(number, "far away")])


def many_strings(target, count: int) -> None:
    workbook(target, rows=[header_row("text"), text_row(2, "x")],
             strings=(b"<si><t>%d</t></si>" % n for n in range(count)), strings_count=count,
             strings_compression=zipfile.ZIP_STORED)


def many_parts(target, count: int) -> None:
    workbook(target, rows=[header_row("text"), text_row(2, "x")],
             extra=((f"customXml/item{n}.xml", b"<a/>") for n in range(count)))


def csv_blank_lines(count: int) -> bytes:
    return b"text\r\nfirst\r\n" + b"\r\n" * count


def csv_wide_row(cells: int) -> bytes:
    return b"text\r\n" + b",".join(b"x" for _ in range(cells)) + b"\r\n"
