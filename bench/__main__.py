"""`make bench`: every benchmark in one run, printing figures and ratios against the raw database.

Run one with `python -m bench public_page`.
"""

import json
import platform
import sys

from .common import setup_django

BENCHMARKS = ["public_page", "load", "dashboard", "themes", "inbox", "sentiment", "uploads", "export", "invitations"]


def main(names):
    setup_django()
    import importlib

    import django

    print(f"# machine: {platform.node()} · {platform.processor() or platform.machine()} · "
          f"Python {platform.python_version()} · Django {django.get_version()}")
    for name in names or BENCHMARKS:
        module = importlib.import_module(f"bench.{name}")
        print(f"## {name}")
        print(json.dumps(module.run(), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1:])
