"""A mail as the bytes its SMTP DATA carries, serialized once.

aiosmtplib's send_message flattens a message with the email package's generator, which writes a
base64 attachment line by line and folds every header through email.header.Header even when it
fits on its line, and then scans the result twice for line endings: that cost the mailer more than
composing the mail. The mails the mailer composes (domain.composition) are 7-bit: quoted-printable
text, base64 images and documents, headers in ASCII or RFC 2047 words. So the generator here
writes CRLF line endings from the start, a payload in one piece, a header that fits on its line as
it is (what does not fit is folded as before), and looks for a line starting "From " (which
compat32 mangles to ">From ") only in a payload that has one. The bytes are those send_message would have
sent (tests/unit/mailer/test_wire.py compares them).
"""

import io
from email.generator import NLCRE, BytesGenerator, fcre
from email.message import Message
from email.policy import Compat32


class _SmtpCompat32(Compat32):
    """compat32 with CRLF line endings; a header of one ASCII line is written without folding."""

    def fold_binary(self, name: str, value) -> bytes:
        if (isinstance(value, str) and value.isascii() and "\n" not in value and "\r" not in value
                and len(name) + 2 + len(value) <= self.max_line_length):
            return f"{name}: {value}{self.linesep}".encode("ascii")
        return super().fold_binary(name, value)


_POLICY = _SmtpCompat32(linesep="\r\n")


class _Generator(BytesGenerator):
    """Made with mangle_from_=False: it mangles here, where the stock generator's every call of
    _write_lines (a payload, a preamble, an epilogue) mangled before, but only what has a "From "
    to mangle (a search over a PDF in base64 costs more than this whole method)."""

    def _write_lines(self, lines: str) -> None:
        if "From " in lines:
            lines = fcre.sub(">From ", lines)
        # The stock generator splits a payload into lines to write each with the policy's line
        # ending: thousands of writes for a PDF in base64. One replacement does the same (the
        # generic substitution where a payload holds a CR).
        self.write(NLCRE.sub(self._NL, lines) if "\r" in lines else lines.replace("\n", self._NL))


def wire_bytes(message: Message) -> bytes:
    """`message` with CRLF line endings, as SMTP carries it (before the DATA dot-stuffing, which
    aiosmtplib does)."""
    with io.BytesIO() as buffer:
        _Generator(buffer, mangle_from_=False, policy=_POLICY).flatten(message)
        return buffer.getvalue()
