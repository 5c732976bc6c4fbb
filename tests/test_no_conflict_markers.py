"""No committed file keeps a merge's conflict markers: in a stylesheet they silently swallowed the
rule after each marker (the builder first showed in one column), and elsewhere they may not fail
loudly either."""

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARKERS = ("<<<<<<< ", ">>>>>>> ", "=======\n")
TEXT_SUFFIXES = {".py", ".html", ".css", ".js", ".txt", ".md", ".toml", ".yaml", ".yml", ".po", ".cfg", ".json"}


def test_no_tracked_file_has_conflict_markers():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    found = []
    for name in tracked.splitlines():
        path = ROOT / name
        if path.suffix not in TEXT_SUFFIXES or not path.is_file():
            continue
        for number, line in enumerate(path.read_text(errors="replace").splitlines(keepends=True), start=1):
            if line.startswith(MARKERS[:2]) or line == MARKERS[2]:
                found.append(f"{name}:{number}")
    assert not found, "conflict markers left by a merge: " + ", ".join(found)
