"""Hostile uploads: what refusing them costs in memory and time, against — the baseline — what
reading the same file cost before the limits (openpyxl in read-only mode, every row walked, as the
old readers did; the csv module reading every record).

Each measurement runs in a fresh process (`python -m bench.uploads MODE FILE`), so the peak
resident memory it reports (the high-water mark `VmHWM` after the work, minus before it) belongs
to that work alone. The files are the issue's: one 800 MB shared string in a small workbook, two million cells
in one row, a million blank rows; the CSV equivalents; and a plain workbook at the limits (99,000
rows × 20 columns), whose up-front check is what a legitimate upload pays in the web request.

Target: every hostile file refused in under a second of CPU and 50 MB above the process's
baseline (`process_before_mb`: Django and openpyxl loaded). Wall times on a shared machine vary;
CPU seconds are the steadier figure.
BENCH_UPLOADS_BASELINE=0 skips the old readers (they take a minute and 2 GB of memory together).
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import SMOKE, peak_mb, size

ROOT = Path(__file__).resolve().parent.parent
MiB = 1 << 20
CASES = ["shared string of 800 MB", "row of 2,000,000 cells", "1,000,000 blank rows",
         "CSV: 1,000,000 blank lines", "CSV: a line of 2,000,000 cells", "plain workbook, 99,000 × 20"]


def _make(case: str, folder: Path) -> Path:
    from tests import hostile_files as hostile

    if case.startswith("CSV: 1,000,000"):
        path = folder / "blank.csv"
        path.write_bytes(hostile.csv_blank_lines(size(1_000_000, 100_010)))
        return path
    if case.startswith("CSV: a line"):
        path = folder / "wide.csv"
        path.write_bytes(hostile.csv_wide_row(size(2_000_000, 600_000)))
        return path
    path = folder / f"{CASES.index(case)}.xlsx"
    if case.startswith("shared string"):
        hostile.huge_shared_string(path, size(800, 65) * MiB)
    elif case.startswith("row of"):
        hostile.wide_row(path, size(2_000_000, 1_100))
    elif case.startswith("1,000,000 blank"):
        hostile.blank_rows(path, size(1_000_000, 100_010))
    else:
        values = [f"v{n}" for n in range(19)]
        hostile.workbook(path, rows=_chain([hostile.header_row(*(f"col{n}" for n in range(20)))],
                                           (hostile.text_row(n, f"Comment number {n}", *values)
                                            for n in range(2, size(99_002, 502)))))
    return path


def _chain(*iterables):
    for iterable in iterables:
        yield from iterable


def run() -> dict:
    baseline = os.environ.get("BENCH_UPLOADS_BASELINE", "0" if SMOKE else "1") != "0"
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for case in CASES:
            path = _make(case, Path(folder))
            new = _measure("new", path)
            row = {"file_mb": round(path.stat().st_size / MiB, 2), "new": new}
            if baseline:
                old = _measure("old", path)
                row["old (openpyxl / csv, every row)"] = old
                if new["seconds"] and "peak_mb" in old:
                    row["old / new: time"] = round(old["seconds"] / max(new["seconds"], 0.001), 1)
                    row["old / new: memory"] = round(old["peak_mb"] / max(new["peak_mb"], 0.1), 1)
            results[case] = row
            path.unlink()
    return results


def _measure(mode: str, path: Path) -> dict:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "cxplatform.settings", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "bench.uploads", mode, str(path)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        return {"failed": done.stderr.strip().splitlines()[-1:] or [f"exit {done.returncode}"]}
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- In the measuring process ------------------------------------------------------------------

def _new(path: Path) -> str:
    """What an upload goes through now: the up-front check (the job reads no further if it fails)."""
    from cxplatform import tabular

    try:
        with path.open("rb") as fileobj, tabular.open_table(fileobj, path.name) as table:
            tabular.header(table)
            rows = table.estimate()
    except tabular.ImportFileError as exc:
        return f"refused: {exc}"
    return f"accepted: {rows} rows"


def _old(path: Path) -> str:
    """What the readers did before: openpyxl read-only, every row walked (the inbox and customer
    imports read the whole file before importing), or every CSV record read."""
    if path.suffix == ".csv":
        import csv
        import io

        csv.field_size_limit(sys.maxsize)
        with path.open("rb") as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
            rows = sum(1 for _record in csv.reader(text))
        return f"read: {rows} records"
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    sheet = workbook.worksheets[0]
    sheet.reset_dimensions()
    rows = sum(1 for _values in sheet.iter_rows(values_only=True))
    workbook.close()
    return f"read: {rows} rows"


def _main(mode: str, path: str) -> None:
    import django

    django.setup()
    import openpyxl  # noqa: F401  loaded before the baseline is taken, as in a warm worker

    from cxplatform import tabular  # noqa: F401

    before = peak_mb()
    started, cpu = time.perf_counter(), time.process_time()
    outcome = (_new if mode == "new" else _old)(Path(path))
    print(json.dumps({"seconds": round(time.perf_counter() - started, 3),
                      "cpu_seconds": round(time.process_time() - cpu, 3),
                      "peak_mb": round(peak_mb() - before, 1), "process_before_mb": round(before, 1),
                      "outcome": outcome[:140]}, ensure_ascii=False))


if __name__ == "__main__":
    if len(sys.argv) == 3:
        _main(*sys.argv[1:])
    else:
        sys.path.insert(0, str(ROOT))
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxplatform.settings")
        print(json.dumps(run(), indent=2, ensure_ascii=False))
