"""How a mail looks: its parts laid out as a text part wrapped at 76 columns and an HTML part that
renders in common mail clients. Pure: no I/O.

The HTML is built the way mail clients need, not the way a web page is: nested tables, every style
inline (Gmail drops styles it cannot tie to an element, Outlook on Windows renders with Word), a
600 px column that shrinks to the screen, the two halves of the transfer block side by side where
they fit and stacked where they do not (inline blocks, no media query needed). The one <style> is
an enhancement for phones (less padding), the mail reads the same without it. Images are inline
parts named by Content-ID: Gmail and Outlook block data: URIs. Every value is escaped here, and only
here: the parts hand over plain text.
"""

import html
import textwrap
from dataclasses import dataclass, field

WIDTH = 76  # RFC 5322 recommends lines of at most 78 characters; quoting adds "> ".
# A URL or a long word (an IBAN without its spaces, a reference) stays whole on a longer line:
# broken, it would no longer work when copied or clicked.
_WRAPPER = textwrap.TextWrapper(width=WIDTH, break_long_words=False, break_on_hyphens=False)

_FONT = "font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;"
_TEXT = "color:#1f2937;"
_MUTED = "color:#6b7280;"
# Long words (a company name without spaces, a URL) wrap instead of widening the column.
_WRAP = "overflow-wrap:anywhere;word-break:break-word;"
_ACCENT = "#1d4ed8"
_ONE_LINE = 24  # characters of a fact's value that fit beside its label at 375 px


@dataclass(frozen=True)
class InlineImage:
    """An image part of the mail, shown by the HTML part as cid:<content_id>."""

    content_id: str  # without the angle brackets of the header
    filename: str
    png: bytes
    alt: str
    width: int  # CSS pixels it is shown at (the PNG has twice as many, for sharp screens)


@dataclass(frozen=True)
class Action:
    label: str
    url: str


@dataclass(frozen=True)
class Transfer:
    """What to transfer, as rows, and the QR code that carries it when there is one."""

    heading: str
    rows: list[tuple[str, str]]
    qr: InlineImage | None = None
    qr_caption: str = ""


@dataclass(frozen=True)
class MailBody:
    language: str
    title: str  # the subject
    preheader: str  # what inbox lists show beside the subject
    company: str
    paragraphs: list[str]  # a paragraph's own line breaks are kept
    facts: list[tuple[str, str]]
    action: Action | None = None
    transfer: Transfer | None = None
    memo: list[str] = field(default_factory=list)  # its lines
    signature: list[str] = field(default_factory=list)
    footer: list[str] = field(default_factory=list)  # the sender's name and address


def wrapped(text: str) -> str:
    """Each line of `text` wrapped at 76 columns; an empty line stays empty."""
    return "\n".join(_WRAPPER.fill(line) if line.strip() else "" for line in text.split("\n"))


def text_part(body: MailBody) -> str:
    blocks = [*body.paragraphs, "\n".join(f"{label}: {value}" for label, value in body.facts)]
    if body.action:
        blocks.append(f"{body.action.label}:\n{body.action.url}")  # the URL alone on its line
    if body.transfer:
        blocks.append("\n".join([body.transfer.heading, *(f"{label}: {value}" for label, value in body.transfer.rows)]))
    blocks += ["\n".join(body.memo), "\n".join(body.signature)]
    text = "\n\n".join(wrapped(block) for block in blocks if block.strip()) + "\n"
    if body.footer:
        text += "\n-- \n" + wrapped("\n".join(body.footer)) + "\n"  # "-- ": the usual signature separator
    return text


def _e(value: str) -> str:
    return html.escape(value, quote=True)


def _lines(lines: list[str]) -> str:
    return "<br>".join(_e(line) for line in lines)


def _paragraph(text: str, style: str = "") -> str:
    return f'<p style="margin:0 0 16px;{_WRAP}{style}">{_lines(text.split(chr(10)))}</p>'


def _rows(rows: list[tuple[str, str]]) -> str:
    return "".join(
        f'<tr><td style="padding:6px 12px 6px 0;{_MUTED}font-size:14px;vertical-align:top;{_WRAP}">{_e(label)}</td>'
        f'<td align="right" style="padding:6px 0;font-size:14px;font-weight:600;text-align:right;vertical-align:top;'
        f'{_value_wrap(value)}">{_e(value)}</td></tr>'
        for label, value in rows)


def _value_wrap(value: str) -> str:
    # A short value (a number, an amount, a date) stays on one line: browsers break after a hyphen,
    # "INV-2025-" over "00042". A long one may wrap, or it would widen the column on a phone.
    return "white-space:nowrap;" if len(value) <= _ONE_LINE else _WRAP


def _table(rows: list[tuple[str, str]], style: str = "") -> str:
    return (f'<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" '
            f'style="border-collapse:collapse;{style}">{_rows(rows)}</table>')


def _button(action: Action) -> str:
    return (
        '<table role="presentation" cellpadding="0" cellspacing="0" border="0" style="margin:8px 0 24px;">'
        f'<tr><td align="center" bgcolor="{_ACCENT}" style="border-radius:6px;background:{_ACCENT};">'
        f'<a href="{_e(action.url)}" target="_blank" style="display:inline-block;padding:12px 24px;{_FONT}'
        f'font-size:16px;font-weight:600;line-height:20px;color:#ffffff;text-decoration:none;border-radius:6px;">'
        f'{_e(action.label)}</a></td></tr></table>'
    )


def _transfer(transfer: Transfer) -> str:
    # Each label above its value: an IBAN stays on one line even on a phone.
    rows = "".join(f'<p style="margin:0 0 8px;font-size:13px;line-height:18px;{_MUTED}{_WRAP}">{_e(label)}<br>'
                   f'<span style="font-size:15px;line-height:20px;font-weight:600;color:#1f2937;">{_e(value)}</span></p>'
                   for label, value in transfer.rows)
    details = (f'<div style="display:inline-block;width:100%;max-width:270px;vertical-align:top;text-align:left;'
               f'{_FONT}{_TEXT}"><p style="margin:0 0 12px;font-size:16px;font-weight:600;">{_e(transfer.heading)}</p>'
               f'{rows}</div>')
    qr = ""
    if transfer.qr:
        image = transfer.qr
        qr = (f'<div style="display:inline-block;width:100%;max-width:{image.width + 24}px;vertical-align:top;'
              f'text-align:center;{_FONT}">'
              f'<img src="cid:{_e(image.content_id)}" width="{image.width}" height="{image.width}" alt="{_e(image.alt)}" '
              f'style="display:block;margin:0 auto;width:{image.width}px;height:{image.width}px;border:0;">'
              f'<p style="margin:4px 12px 12px;font-size:12px;line-height:16px;{_MUTED}">{_e(transfer.qr_caption)}</p>'
              '</div>')
    return (f'<tr><td style="padding:0 32px 24px;" class="card-padding">'
            f'<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" '
            f'style="border:1px solid #e5e7eb;border-radius:8px;"><tr><td align="center" style="padding:16px;font-size:0;text-align:center;">'
            f'{qr}{details}</td></tr></table></td></tr>')


def html_part(body: MailBody) -> str:
    content = "".join(_paragraph(paragraph) for paragraph in body.paragraphs)
    if body.facts:
        content += _table(body.facts, "margin:0 0 24px;border-top:1px solid #e5e7eb;")
    if body.action:
        content += _button(body.action)
    after = ""
    if body.memo:
        after += _paragraph("\n".join(body.memo), f"padding:12px 16px;background:#f9fafb;border-left:3px solid #d1d5db;"
                                                  f"{_MUTED}font-size:14px;")
    if body.signature:
        after += _paragraph("\n".join(body.signature), "margin:0;")
    footer = (f'<tr><td align="center" style="padding:16px 24px 0;{_FONT}font-size:12px;line-height:18px;{_MUTED}{_WRAP}">'
              f'{_lines(body.footer)}</td></tr>') if body.footer else ""
    return (
        '<!DOCTYPE html>'
        f'<html lang="{_e(body.language)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="color-scheme" content="light"><meta name="supported-color-schemes" content="light">'
        f'<title>{_e(body.title)}</title>'
        '<style>@media (max-width: 480px) { .card-padding { padding-left: 20px !important; '
        'padding-right: 20px !important; } }</style></head>'
        '<body style="margin:0;padding:0;background:#f3f4f6;">'
        # Shown by inbox lists instead of the layout's first words (the company name again).
        f'<div style="display:none;max-height:0;overflow:hidden;">{_e(body.preheader)}</div>'
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background:#f3f4f6;">'
        '<tr><td align="center" style="padding:24px 12px;">'
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" '
        'style="max-width:600px;width:100%;">'
        '<tr><td style="background:#ffffff;border-radius:8px;">'
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0">'
        f'<tr><td class="card-padding" style="padding:24px 32px;border-bottom:1px solid #e5e7eb;{_FONT}{_TEXT}'
        f'font-size:20px;font-weight:700;{_WRAP}">{_e(body.company)}</td></tr>'
        f'<tr><td class="card-padding" style="padding:24px 32px 8px;{_FONT}{_TEXT}font-size:16px;line-height:24px;">'
        f'{content}</td></tr>'
        + (_transfer(body.transfer) if body.transfer else "")
        + (f'<tr><td class="card-padding" style="padding:0 32px 24px;{_FONT}{_TEXT}font-size:16px;line-height:24px;">'
           f'{after}</td></tr>' if after else "")
        + '</table></td></tr>'
        + footer
        + '</table></td></tr></table></body></html>'
    )
