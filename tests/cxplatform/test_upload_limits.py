"""Hostile uploads are refused whole, with a message saying why, before they cost memory or time,
and nothing of them is imported: the workbooks of the issue (one 800 MB shared string in an
817 KB file, a row of two million cells, a million blank rows), zip bombs and their relatives,
and the same shapes as CSV. Files are built here as streams (`tests/hostile_files.py`); what
refusing them costs is measured by `bench/uploads.py`, not asserted here."""

import io
import struct
import zipfile

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile

from cxplatform import import_jobs, tabular
from cxplatform.models import Customer, CustomerImportJob, Role
from cxplatform.tabular import ImportFileError, TabularLimitError
from feedback.models import FeedbackImportJob, FeedbackItem
from tests import hostile_files as hostile

MiB = 1 << 20


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def refusal(data: bytes, name="f.xlsx", limits=None) -> str:
    with pytest.raises(ImportFileError) as refused, tabular.open_table(io.BytesIO(data), name, limits=limits) as table:
        tabular.header(table)
        table.estimate()
        for _row in table.records():
            pass
    return str(refused.value)


def build(make, *args, **kwargs) -> bytes:
    out = io.BytesIO()
    make(out, *args, **kwargs)
    return out.getvalue()


# --- XLSX: the package -----------------------------------------------------------------------

def test_a_plain_workbook_of_the_same_shape_is_read():
    """The control: the hand-built workbooks below are valid, so their refusals come from the limits."""
    data = build(hostile.workbook, rows=[hostile.header_row("text", "rating"), hostile.text_row(2, "Hi", "5"),
                                         b'<row r="3"><c r="A3" t="s"><v>0</v></c></row>'],
                 strings=[b"<si><t>From the strings</t></si>"], strings_count=1)
    with tabular.open_table(io.BytesIO(data), "f.xlsx") as table:
        assert tabular.header(table) == ["text", "rating"]
        assert table.estimate() == 2
        assert [values for number, values in table.records()] == [
            ["text", "rating"], ["Hi", "5"], ["From the strings"]]


def test_one_huge_shared_string_is_refused_from_the_zip_directory_before_any_parsing():
    """The issue's workbook: a small file whose shared strings unpack to 80 MB (800 MB in the
    bench). openpyxl would hold the string, several times over; the directory's sizes refuse it."""
    data = build(hostile.huge_shared_string, 80 * MiB)
    assert len(data) < 1 * MiB
    message = refusal(data)
    assert "xl/sharedStrings.xml" in message and "more than the 64 MB an import reads" in message


def test_a_part_that_lies_about_its_size_cannot_grow_past_it():
    """The sizes checked are the directory's; zipfile stops a member at its declared size and then
    finds the CRC wrong, so a lie is an unreadable file, not a bigger one."""
    data = bytearray(build(hostile.huge_shared_string, 2 * MiB))
    name = b"xl/sharedStrings.xml"
    entry = data.rindex(b"PK\x01\x02", 0, data.rindex(name))  # its entry in the central directory
    struct.pack_into("<L", data, entry + 24, 1000)  # declared uncompressed size: 1,000 bytes
    assert "could not be read as an Excel workbook" in refusal(bytes(data))


def test_a_zip_bomb_is_refused_by_its_compression_ratio():
    data = build(hostile.wide_row, 2_000_000, compression=zipfile.ZIP_DEFLATED)
    assert "packed unusually tightly" in refusal(data)


def test_too_many_parts_are_refused_from_the_end_record_before_zipfile_reads_them():
    message = refusal(build(hostile.many_parts, 1_001))
    assert "more than 1,000 parts" in message


def test_the_whole_package_is_capped():
    data = build(hostile.workbook, rows=[hostile.header_row("text"), hostile.text_row(2, "x" * (2 * MiB))],
                 sheet_compression=zipfile.ZIP_STORED)
    assert "The workbook unpacks to more than 1 MB" in refusal(data, limits=tabular.Limits(unpacked_bytes=MiB))


def test_a_workbook_with_a_doctype_is_refused():
    data = build(hostile.workbook, rows=[hostile.header_row("text")],
                 extra=[("docProps/custom.xml", b'<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>')])
    assert "form spreadsheet programs do not write" in refusal(data)


# --- XLSX: inside the sheet ------------------------------------------------------------------

def test_a_row_of_two_million_cells_is_refused_at_its_first_thousand_and_one():
    message = refusal(build(hostile.wide_row, 2_000_000))
    assert message == "Row 2 has more than 1,000 columns; a file to import may have at most 1,000."


def test_one_cell_far_to_the_right_is_refused_by_its_position():
    """openpyxl pads a row up to its last cell: one cell in column ALM makes a row 1,001 wide."""
    data = build(hostile.workbook, rows=[hostile.header_row("text"), b'<row r="2"><c r="ALM2"><v>1</v></c></row>'])
    assert "Row 2 has more than 1,000 columns" in refusal(data)


def test_a_million_blank_rows_are_refused_counting_the_blank_ones():
    message = refusal(build(hostile.blank_rows, 1_000_000))
    assert message == "The file has more than 100,000 rows (blank rows count too); split it into smaller files."


def test_a_row_numbered_a_million_is_refused_at_once():
    """One row at 1,000,000 would make openpyxl yield the 999,998 blank rows before it."""
    assert "more than 100,000 rows" in refusal(build(hostile.far_row, 1_000_000))


def test_a_declared_size_beyond_the_limits_is_believed_a_small_one_is_not():
    big = build(hostile.workbook, sheet_head=b'<dimension ref="A1:B2000000"/>',
                rows=[hostile.header_row("text"), hostile.text_row(2, "x")])
    assert "more than 100,000 rows" in refusal(big)
    wide = build(hostile.workbook, sheet_head=b'<dimension ref="A1:XFD3"/>',
                 rows=[hostile.header_row("text"), hostile.text_row(2, "x")])
    assert "The file has more than 1,000 columns" in refusal(wide)
    small_claim = build(hostile.workbook, sheet_head=b'<dimension ref="A1:A2"/>',
                        rows=[hostile.header_row("text"), *(hostile.text_row(n, "x") for n in range(2, 12))])
    assert "more than 5 rows" in refusal(small_claim, limits=tabular.Limits(rows=5))


def test_too_many_filled_cells_are_refused(monkeypatch):
    data = build(hostile.workbook, rows=[hostile.header_row("a", "b"),
                                         *(hostile.text_row(n, "x", "y") for n in range(2, 8))])
    assert refusal(data, limits=tabular.Limits(cells=10)) == (
        "The file has more than 10 filled cells; split it into smaller files.")


def test_too_many_shared_strings_are_refused():
    assert "more than 500,000 different texts" in refusal(build(hostile.many_strings, 500_001))


def test_one_shared_string_over_half_a_megabyte_is_refused():
    data = build(hostile.huge_shared_string, 600 * 1024, compression=zipfile.ZIP_STORED)
    assert "holds more than 512 KB of text" in refusal(data)


def test_one_row_over_four_megabytes_is_refused():
    data = build(hostile.workbook, rows=[hostile.header_row("text"), hostile.text_row(2, "x" * (5 * MiB))],
                 sheet_compression=zipfile.ZIP_STORED)
    assert "Row 2 of the workbook is larger than 4 MB" in refusal(data)


@pytest.mark.parametrize("where", ["sheet", "styles"])
def test_what_openpyxl_keeps_outside_rows_is_capped(where):
    """A sheet's parts after its rows, and every other part, are built whole by openpyxl."""
    merges = b"<mergeCells>" + b'<mergeCell ref="A1:B1"/>' * 100_001 + b"</mergeCells>"
    rows = [hostile.header_row("text"), hostile.text_row(2, "x")]
    if where == "sheet":
        data = build(hostile.workbook, rows=rows, sheet_tail=merges, sheet_compression=zipfile.ZIP_STORED)
    else:
        data = build(hostile.workbook, rows=rows, extra=[("xl/styles.xml", merges, zipfile.ZIP_STORED)])
    assert "form spreadsheet programs do not write" in refusal(data)


# --- CSV -------------------------------------------------------------------------------------

def test_a_csv_of_a_million_blank_lines_is_refused():
    message = refusal(hostile.csv_blank_lines(1_000_000), "f.csv")
    assert message == "The file has more than 100,000 rows (blank rows count too); split it into smaller files."


def test_a_csv_line_of_two_million_cells_is_refused_before_it_is_read_whole():
    assert refusal(hostile.csv_wide_row(2_000_000), "f.csv") == "Row 2 is longer than 1,048,576 characters."


def test_a_csv_row_of_a_thousand_and_one_cells_is_refused():
    assert "Row 2 has more than 1,000 columns" in refusal(hostile.csv_wide_row(1_001), "f.csv")
    # Empty cells padding a row out are not columns: some exports write them.
    padded = b"text\r\nx" + b"," * 5_000 + b"\r\n"
    with tabular.open_table(io.BytesIO(padded), "f.csv") as table:
        assert table.estimate() == 1


def test_a_csv_cell_over_the_csv_modules_limit_is_refused_with_a_clear_message():
    lines = "\n".join("y" * 1000 for _ in range(200))
    data = f'text\r\n"{lines}"\r\n'.encode()
    assert refusal(data, "f.csv") == "Row 2 has a cell longer than 131,072 characters."


def test_too_many_filled_csv_cells_are_refused():
    data = b"a,b\r\n" + b"x,y\r\n" * 6
    assert "more than 10 filled cells" in refusal(data, "f.csv", limits=tabular.Limits(cells=10))


# --- Through the pages and the job: refused whole, nothing imported ----------------------------

HOSTILE = {
    "huge shared string": ("f.xlsx", lambda: build(hostile.huge_shared_string, 80 * MiB), "64 MB"),
    # Empty cells, stored: 8 MB, under the upload's 20 MB (with values the file is 28 MB).
    "two million cells": ("f.xlsx", lambda: build(hostile.wide_row, 2_000_000, cell=b"<c/>"), "1,000 columns"),
    "a million blank rows": ("f.xlsx", lambda: build(hostile.blank_rows, 1_000_000), "100,000 rows"),
    "a million blank lines": ("f.csv", lambda: hostile.csv_blank_lines(1_000_000), "100,000 rows"),
}


@pytest.mark.parametrize("case", HOSTILE, ids=list(HOSTILE))
def test_the_inbox_upload_refuses_a_hostile_file_with_no_job_and_no_item(case, org_a, make_member, client_for):
    name, make, message = HOSTILE[case]
    client = client_for(make_member(org_a, Role.AGENT))
    answer = client.post("/inbox/import/", {"file": SimpleUploadedFile(name, make())})
    assert answer.status_code == 400 and message in answer.context["form"].errors["file"][0]
    assert not FeedbackImportJob.objects.exists() and not FeedbackItem.objects.exists()


def test_the_customer_upload_refuses_the_huge_shared_string(org_a, make_member, client_for):
    client = client_for(make_member(org_a, Role.ADMIN))
    data = build(hostile.huge_shared_string, 80 * MiB)
    answer = client.post("/customers/import/", {"file": SimpleUploadedFile("c.xlsx", data)})
    assert answer.status_code == 400 and "64 MB" in answer.content.decode()
    assert not CustomerImportJob.objects.exists() and not Customer.objects.exists()


@pytest.mark.parametrize("name", ["f.csv", "f.xlsx"])
def test_a_job_given_a_file_beyond_the_limits_fails_before_its_first_row(org_a, name, monkeypatch):
    """Whatever reached a job (the limits changed, a job queued before they existed) is read whole
    through the limits before a row is written: good rows above the bad part are not imported."""
    rows = [["text"], *([f"Good row {n}"] for n in range(20))]
    if name == "f.csv":
        data = "\r\n".join(r[0] for r in rows).encode() + b"\r\n" * 30
    else:
        data = build(hostile.workbook, rows=[hostile.header_row("text"),
                                             *(hostile.text_row(n, f"Good row {n}") for n in range(2, 22)),
                                             b'<row r="60"/>'])
    job = import_jobs.create_job(FeedbackImportJob, organization=org_a, upload=ContentFile(data), original_name=name,
                                 enqueue=False)
    monkeypatch.setattr(tabular, "LIMITS", tabular.Limits(rows=40))
    job = import_jobs.run_job(FeedbackImportJob, job.pk)
    assert job.status == "failed" and "more than 40 rows" in job.failure
    assert (job.processed_rows, job.imported_rows) == (0, 0) and not FeedbackItem.objects.exists()
    assert not job.file


def test_a_refusal_is_a_limit_error_and_speaks_the_readers_language():
    from django.utils import translation

    with translation.override("ru"), pytest.raises(TabularLimitError) as refused, \
            tabular.open_table(io.BytesIO(hostile.csv_blank_lines(200_000)), "f.csv") as table:
        table.estimate()
    assert "100" in str(refused.value) and "rows" not in str(refused.value)


def test_an_upload_past_the_cap_is_never_written_whole_and_is_refused_by_its_size(org_a, make_member, client_for,
                                                                                  monkeypatch):
    """Django writes an upload to a temporary file before the view sees its size: the first upload
    handler passes on only the first bytes of an oversized file, so no request fills the disk."""
    from django.core.files.uploadhandler import TemporaryFileUploadHandler

    from cxplatform import upload_handlers

    monkeypatch.setattr(upload_handlers, "MAX_FILE_BYTES", 100_000)
    written = []
    receive = TemporaryFileUploadHandler.receive_data_chunk
    monkeypatch.setattr(TemporaryFileUploadHandler, "receive_data_chunk",
                        lambda self, data, start: written.append(len(data)) or receive(self, data, start))
    client = client_for(make_member(org_a, Role.AGENT))
    big = b"text\r\n" + b"A long enough line of feedback\r\n" * 100_000  # 3.2 MB: past the in-memory size
    answer = client.post("/inbox/import/", {"file": SimpleUploadedFile("big.csv", big)})
    assert answer.status_code == 400
    assert "The file is 3.1\xa0MB; at most 20.0\xa0MB can be imported at once." in answer.context["form"].errors["file"]
    assert sum(written) <= 100_000 + 64 * 1024  # one chunk past the cap at most
    assert not FeedbackImportJob.objects.exists()


def test_parts_openpyxl_never_reads_are_no_reason_to_refuse():
    """Excel's legacy VML drawings (cell comments) are not always well-formed XML, and a pivot
    table's cache can be large: openpyxl in read-only mode opens neither."""
    records = b"<pivotCacheRecords>" + b"<r><n v='1'/></r>" * 150_000 + b"</pivotCacheRecords>"
    data = build(hostile.workbook, rows=[hostile.header_row("text"), hostile.text_row(2, "x")],
                 extra=[("xl/drawings/vmlDrawing1.vml", b"<xml><o:shapelayout><br></xml>"),
                        ("xl/pivotCache/pivotCacheRecords1.xml", records, zipfile.ZIP_STORED)])
    with tabular.open_table(io.BytesIO(data), "f.xlsx") as table:
        assert [values for _number, values in table.records()] == [["text"], ["x"]]
