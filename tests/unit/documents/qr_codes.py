"""QR codes read back off a rendered PDF page, with Debian's pdftoppm (poppler-utils) and zbarimg
(zbar-tools), which deploy/test-tools/install.sh installs; and an EPC069-12 payload split into
its fields."""

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

TOOLS = ("pdftoppm", "zbarimg")
# EPC069-12's charset numbers.
CHARSETS = {"1": "utf-8", "2": "iso-8859-1", "3": "iso-8859-2", "4": "iso-8859-4", "5": "iso-8859-5",
            "6": "iso-8859-7", "7": "iso-8859-10", "8": "iso-8859-15"}
FIELDS = ("service_tag", "version", "charset", "identification", "bic", "name", "iban", "amount", "purpose",
          "reference", "text", "information")


def needs_tools() -> None:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not installed (deploy/test-tools/install.sh qr installs them)")


def qr_codes_on_first_page(pdf: bytes, dpi: int = 150) -> list[bytes]:
    """The bytes of every QR code zbar finds on the PDF's first page, rendered at `dpi`."""
    with tempfile.TemporaryDirectory() as directory:
        source = Path(directory, "document.pdf")
        source.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-r", str(dpi), "-png", "-f", "1", "-l", "1", "-singlefile", str(source),
                        str(Path(directory, "page"))], check=True)
        return qr_codes_in_image(Path(directory, "page.png"))


def qr_codes_in_image(image: Path) -> list[bytes]:
    """The bytes of the QR codes zbar finds in an image (nothing found: [])."""
    # -Sbinary: the code's bytes as they are, not converted by zbar's guess of their charset.
    found = subprocess.run(["zbarimg", "--quiet", "--raw", "-Sbinary", "-Sqrcode.enable", "--nodbus", str(image)],
                           capture_output=True)
    if found.returncode == 4:  # zbarimg: nothing found
        return []
    found.check_returncode()
    return [found.stdout.removesuffix(b"\n")] if found.stdout else []


def epc_fields(payload: bytes) -> dict[str, str]:
    """The fields of an EPC069-12 payload, decoded in the charset its third line names."""
    charset = payload.split(b"\n")[2].decode("ascii")
    lines = payload.decode(CHARSETS[charset]).split("\n")
    return dict(zip(FIELDS, lines + [""] * (len(FIELDS) - len(lines)), strict=True))
