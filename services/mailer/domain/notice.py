"""The notice of an undelivered mail: when a mail of an invoice bounces for good, is given up after
its attempts or is dropped (its addresses suppressed, its document never rendered), the account
hears of it at its notification address (docs/design.md, "Automatic mails"). Pure.

A notice is a mail job of its own kind: queued, rate limited, retried like any mail, but it
attaches nothing, announces nothing on mail.events (so the invoices service never takes it for
the invoice's mail), and is never noticed itself. It is written in the language of the account's
country when the platform speaks it, else in English: the account has no language setting, and
the customer's language is the customer's.
"""

from datetime import datetime
from email.header import Header
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr
from typing import Literal

from babel.languages import get_official_languages
from pydantic import BaseModel

from contracts.messages.mail import MailKind
from services.mailer.domain.composition import MailDocument, message_id, single_line
from services.mailer.domain.notice_texts import NOTICE_TEXTS, Why

NOTICE: Literal["undelivered_notice"] = "undelivered_notice"
# A relay's or renderer's diagnostic is quoted whole up to this, on one line.
_DIAGNOSTIC_CHARS = 300


class Undelivered(BaseModel):
    recipient: str
    why: Why
    diagnostic: str = ""


class UndeliveredNotice(BaseModel):
    """What a notice tells the account: which mail (of which kind) did not reach whom, and why."""

    mail_id: str
    kind: MailKind
    undelivered: list[Undelivered]


def notice_language(country: str) -> str:
    """The first official language of the account's country that notices are written in, else English."""
    spoken = get_official_languages(country, de_facto=True) if country else ()
    return next((language for language in spoken if language in NOTICE_TEXTS), "en")


def quoted(diagnostic: str) -> str:
    text = single_line(diagnostic)
    return f'"{text[:_DIAGNOSTIC_CHARS]}{"..." if len(text) > _DIAGNOSTIC_CHARS else ""}"'


def notice_text(notice: UndeliveredNotice, document: MailDocument, language: str) -> tuple[str, str]:
    """The notice's subject and plain text: what failed per address, then what to do about it."""
    texts = NOTICE_TEXTS[language]
    company, customer = single_line(document.issuer.company_name), single_line(document.customer.name)
    mail = texts.mails[notice.kind].format(number=single_line(document.number or document.id))
    lines = [f"- {texts.reasons[item.why].format(address=item.recipient, diagnostic=quoted(item.diagnostic))}"
             for item in notice.undelivered]
    advice = [texts.advice[item.why].format(address=item.recipient, customer=customer)
              for item in notice.undelivered]
    body = "\n\n".join([texts.greeting, texts.intro.format(mail=mail, customer=customer), "\n".join(lines),
                        "\n\n".join(dict.fromkeys(advice)), texts.footer.format(company=company, customer=customer)])
    return single_line(texts.subject.format(mail=mail, customer=customer)), body + "\n"


def build_notice(notice: UndeliveredNotice, document: MailDocument, *, account_id: str, notice_id: str, to: str,
                 language: str, sent_at: datetime) -> tuple[MIMEText, str]:
    """The notice as it goes out, from the account's own sender, and its SMTP Message-ID: text
    only, nothing attached."""
    subject, body = notice_text(notice, document, language)
    issuer = document.issuer
    smtp_message_id = message_id(account_id, notice_id, issuer.email)
    message = MIMEText(body, "plain", "utf-8")
    message["From"] = formataddr((single_line(issuer.company_name), issuer.email), "utf-8")
    message["To"] = to
    message["Subject"] = Header(subject, None if subject.isascii() else "utf-8", header_name="Subject")
    message["Date"] = format_datetime(sent_at)
    message["Message-ID"] = smtp_message_id
    # RFC 3834: no vacation responder answers it, so a notice never causes mail back to the platform.
    message["Auto-Submitted"] = "auto-generated"
    return message, smtp_message_id
