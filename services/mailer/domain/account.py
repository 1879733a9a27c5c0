"""The mailer's own copy of an account's configuration, from account.configured on accounts.events.

A mail's sender (From, Reply-To), the company printed on it and its document, and the IBAN and BIC it
asks to be paid to come from here, never from the invoice snapshot of the command: only the invoices
service writes accounts.events, so only the account's own configuration reaches this copy, while
anything on mail.commands is at most as trustworthy as the producer that wrote it.
"""

from datetime import timedelta
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError

from chassis.aggregate import Aggregate
from contracts.messages.common import Address, InvoiceSnapshot, Issuer
from contracts.messages.credit_notes import CreditNoteSnapshot
from contracts.messages.invoices import AccountConfigured
from contracts.messages.mail import MailKind, MailText, MailTexts

Document = TypeVar("Document", InvoiceSnapshot, CreditNoteSnapshot)
_MAIL_TEXTS: TypeAdapter[dict[str, dict[str, MailText]]] = TypeAdapter(MailTexts)


class MailerAccount(Aggregate):
    """One account as its owner last configured it. The aggregate's id is the account's."""

    company_name: str | None = None
    company_address: Address = Address()
    company_tax_id: str = ""
    sender_email: str | None = None
    reply_to: str | None = None
    payee_iban: str | None = None
    # Every IBAN the account ever asked to be paid to, oldest first: an invoice issued before a
    # change still asks to be paid to the IBAN it was issued with (payments keeps them all too).
    payee_ibans: list[str] = []
    mail_texts: MailTexts = {}
    # The BIC the account configured with each of its IBANs, as it last did.
    payee_bics: dict[str, str] = {}
    notification_email: str | None = None
    mail_delay_minutes: int = 0

    def configured(self, event: AccountConfigured) -> None:
        """The account's settings as they are now (each event carries all of them)."""
        settings: dict[str, Any] = event.settings
        self.company_name = settings.get("company_name")
        self.company_address = Address.model_validate(settings.get("company_address") or {})
        self.company_tax_id = settings.get("company_tax_id") or ""
        self.sender_email = settings.get("sender_email")
        self.reply_to = settings.get("reply_to")
        self.payee_iban = settings.get("payee_iban")
        if self.payee_iban and self.payee_iban not in self.payee_ibans:
            self.payee_ibans = [*self.payee_ibans, self.payee_iban]
        if self.payee_iban:
            bics = {**self.payee_bics}
            bics.pop(self.payee_iban, None)
            if bic := settings.get("payee_bic"):
                bics[self.payee_iban] = bic
            self.payee_bics = bics
        self.notification_email = settings.get("notification_email")
        self.mail_delay_minutes = settings.get("mail_delay_minutes") or 0
        try:  # checked again, placeholders included: the mailer fills them in (contracts.mail_texts)
            self.mail_texts = _MAIL_TEXTS.validate_python(settings.get("mail_texts") or {})
        except ValidationError:
            self.mail_texts = {}

    def wording(self, language: str, kind: MailKind) -> MailText | None:
        """The account's own texts of a mail: its language's, else its base language's (de-CH -> de)."""
        for candidate in (language, language.split("-")[0]):
            if kind in self.mail_texts.get(candidate, {}):
                return self.mail_texts[candidate][kind]
        return None

    def notification_address(self) -> str | None:
        """Where the account hears of its mails that were not delivered."""
        return self.notification_email or self.reply_to or self.sender_email

    def delivery_window(self) -> timedelta:
        """How long a mail sent automatically waits before its first attempt, so that what one
        moment causes (a run of finalizations, the day's payments) goes out together."""
        return timedelta(minutes=self.mail_delay_minutes)

    def issuer(self) -> Issuer | None:
        """Who the account's mails come from and who its documents name; None while the account
        has no company name or sender address (it cannot bill yet)."""
        if not self.company_name or not self.sender_email:
            return None
        try:
            return Issuer(company_name=self.company_name, email=self.sender_email, reply_to=self.reply_to,
                          address=self.company_address, tax_id=self.company_tax_id)
        except ValidationError:
            return None

    def iban_for(self, invoice: InvoiceSnapshot) -> str | None:
        """The IBAN a mail of this invoice prints: the one the invoice was issued with when it is one
        of the account's, else the account's current one; never an IBAN the account did not configure."""
        if invoice.payee_iban is not None and invoice.payee_iban in self.payee_ibans:
            return invoice.payee_iban
        return self.payee_iban

    def as_issuer_of(self, document: Document) -> Document:
        """The snapshot with the account's own issuer and payment details in place of whatever the
        command carried: what the mail and its document print (a credit note asks for no payment).
        Requires issuer() to be set."""
        if isinstance(document, CreditNoteSnapshot):
            return document.model_copy(update={"issuer": self.issuer()})
        iban = self.iban_for(document)
        return document.model_copy(update={"issuer": self.issuer(), "payee_iban": iban,
                                           "payee_bic": self.payee_bics.get(iban) if iban else None})
