"""`make audit`: the known vulnerabilities of the installed dependencies, said plainly.

In order, the first vulnerability database that answers:
1. pip-audit against OSV (api.osv.dev): every installed version is audited.
2. pip-audit against PyPI's per-release JSON: the same, from the package registry.
3. The package registry's project JSON, which lists the known vulnerabilities of a project's
   latest release only: a dependency installed at its latest release is audited against it;
   any other is listed as NOT audited, with its version, so nobody reads silence as safety.
If none answers, it says so and fails.

Exit status: 0 everything audited and nothing found; 1 a known vulnerability; 2 something
could not be audited (and nothing was found in what could).
"""

import argparse
import json
import os
import shutil
import subprocess  # nosec B404 — runs pip-audit, a fixed command line
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata

from packaging.utils import canonicalize_name

OSV_URL = os.environ.get("AUDIT_OSV_URL", "https://api.osv.dev/v1/query")
PYPI_URL = os.environ.get("AUDIT_PYPI_URL", "https://pypi.org/pypi").rstrip("/")
TIMEOUT = 10
OURS = {"cxplatform"}


@dataclass
class Report:
    audited: list[str] = field(default_factory=list)
    vulnerable: list[tuple[str, str, str, list[str]]] = field(default_factory=list)  # name, version, id, fixed in
    not_audited: list[tuple[str, str, str]] = field(default_factory=list)  # name, version, why

    @property
    def status(self) -> int:
        return 1 if self.vulnerable else 2 if self.not_audited else 0


def installed() -> dict[str, str]:
    found = {}
    for dist in metadata.distributions():
        name = canonicalize_name(dist.metadata["Name"] or "")
        if name and name not in OURS:
            found[name] = dist.version
    return dict(sorted(found.items()))


def _get(url: str, data: bytes | None = None):
    if not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        raise ValueError(f"refusing to fetch {url}")
    request = urllib.request.Request(url, data=data, headers={"Accept": "application/json",  # noqa: S310
                                                              "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:  # noqa: S310 — https or loopback only  # nosec B310
        return json.load(answer)


def reachable(url: str, data: bytes | None = None) -> bool:
    try:
        _get(url, data)
    except (urllib.error.URLError, OSError, ValueError):
        return False
    return True


def pip_audit(service: str) -> int:
    command = [shutil.which("pip-audit") or "pip-audit", "--vulnerability-service", service, "--progress-spinner",
               "off", "--skip-editable", "--desc", "off"]
    print(f"Auditing with pip-audit against {service.upper()}:", " ".join(command[1:]), flush=True)
    return subprocess.run(command, check=False).returncode  # noqa: S603 — our own command line  # nosec B603


def registry_audit(packages: dict[str, str]) -> Report:
    """Each dependency against the registry's list for its project's latest release."""
    report = Report()

    def look(item):
        name, version = item
        try:
            return name, version, _get(f"{PYPI_URL}/{name}/json")
        except (urllib.error.URLError, OSError, ValueError, json.JSONDecodeError) as exc:
            return name, version, exc

    with ThreadPoolExecutor(max_workers=8) as pool:
        for name, version, answer in pool.map(look, packages.items()):
            if isinstance(answer, Exception):
                report.not_audited.append((name, version, f"the registry did not answer ({answer})"))
                continue
            latest = answer.get("info", {}).get("version")
            if latest != version or "vulnerabilities" not in answer:
                report.not_audited.append((name, version, f"the registry lists vulnerabilities for {latest} only"))
                continue
            report.audited.append(name)
            for vulnerability in answer["vulnerabilities"]:
                if vulnerability.get("withdrawn"):
                    continue
                report.vulnerable.append((name, version, vulnerability.get("id", "?"),
                                          vulnerability.get("fixed_in") or []))
    return report


def print_report(report: Report, total: int) -> None:
    print(f"Audited {len(report.audited)} of {total} installed packages against the package registry's "
          f"list of known vulnerabilities of each project's latest release.")
    for name, version, vid, fixed in report.vulnerable:
        print(f"VULNERABLE  {name} {version}: {vid}" + (f" (fixed in {', '.join(fixed)})" if fixed else
                                                         " (no fixed release)"))
    if report.not_audited:
        print(f"NOT AUDITED ({len(report.not_audited)}): no vulnerability database reachable from here covers "
              f"these installed versions, so nothing is known about them either way:")
        for name, version, why in report.not_audited:
            print(f"  {name} {version}: {why}")
    if report.status == 0:
        print("No known vulnerabilities in any installed package.")
    elif report.status == 2:
        print("No known vulnerabilities in the audited packages; the others were NOT audited.")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--registry-only", action="store_true", help="skip pip-audit; use the registry's lists")
    args = parser.parse_args(argv)
    packages = installed()
    if not args.registry_only:
        if reachable(OSV_URL, json.dumps({"package": {"name": "django", "ecosystem": "PyPI"},
                                          "version": "5.2"}).encode()):
            return pip_audit("osv")
        pip = packages.get("pip", "")
        if pip and reachable(f"{PYPI_URL}/pip/{pip}/json"):
            return pip_audit("pypi")
        print(f"Neither OSV ({OSV_URL}) nor PyPI's per-release JSON answers from this machine.")
    if not reachable(f"{PYPI_URL}/pip/json"):
        print(f"No vulnerability database answers from this machine (tried {OSV_URL} and {PYPI_URL}): "
              f"NOTHING WAS AUDITED.")
        return 2
    report = registry_audit(packages)
    print_report(report, len(packages))
    return report.status


if __name__ == "__main__":
    sys.exit(main())
