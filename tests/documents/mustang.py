"""Mustang's validator (Java, from Maven Central via deploy/mustang) run on Factur-X files: PDF/A-3
through veraPDF, the XML against the XSD and the EN 16931 schematron. It shares no code with the
factur-x library that writes our documents, which is why the suite asks it."""

import re
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
_REPORT = re.compile(r"^=== (.+)\n(.*)$", re.MULTILINE)


def validate(files: list[Path]) -> dict[str, str]:
    """Each file's XML report from one run of the validator (one JVM start for all of them)."""
    libs = subprocess.run([REPO_ROOT / "deploy/mustang/install.sh"], check=True, capture_output=True,
                          text=True).stdout.strip()
    run = subprocess.run(["java", "-cp", f"{libs}/*", REPO_ROOT / "deploy/mustang/Validate.java", *map(str, files)],
                         check=True, capture_output=True, text=True, timeout=600)
    return {name: report for name, report in _REPORT.findall(run.stdout)}


def summaries(report: str) -> list[str]:
    """The verdicts in a report: the PDF part's, the XML part's and the overall one."""
    return re.findall(r'<summary status="([a-z]+)"/>', report)


def errors(report: str) -> list[str]:
    return re.findall(r"<error[^>]*>(.*?)</error>", report)
