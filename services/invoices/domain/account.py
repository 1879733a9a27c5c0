"""An account's invoicing settings, as the invoices service keeps them. The aggregate's id is the account's."""

from chassis.aggregate import Aggregate
from contracts.messages.common import Address, EmailAddress, Issuer
from contracts.messages.invoices import AccountConfigured, ConfigureAccount
from contracts.messages.mail import MailTexts
from services.invoices.domain.auto_send import AutoSend
from services.invoices.domain.errors import RuleViolation
from services.invoices.domain.hosted_link import HostedLinks

DEFAULT_NUMBER_FORMAT = "INV-{yyyy}-{seq:05}"
DEFAULT_CREDIT_NOTE_NUMBER_FORMAT = "CN-{yyyy}-{seq:05}"


class AccountSettings(Aggregate):
    company_name: str | None = None
    company_address: Address = Address()
    company_tax_id: str = ""
    sender_email: EmailAddress | None = None
    reply_to: EmailAddress | None = None
    payee_iban: str | None = None
    payee_bic: str | None = None
    notification_email: EmailAddress | None = None
    number_format: str = DEFAULT_NUMBER_FORMAT
    credit_note_number_format: str = DEFAULT_CREDIT_NOTE_NUMBER_FORMAT
    default_days_until_due: int = 30
    edit_finalized_invoices: bool = False
    delete_finalized_invoices: bool = False
    reminder_schedule: list[int] = []
    correction_rule: str = "void"
    send_on_finalize: bool = False
    send_receipts: bool = False
    send_credit_notes: bool = False
    mail_delay_minutes: int = 0
    mail_texts: MailTexts = {}

    def configure(self, command: ConfigureAccount) -> None:
        """Apply the settings the command names; the others keep their values."""
        if command.account_id != self.id:
            raise RuleViolation("account_mismatch", "An account can only configure itself.")
        changed = {name: value for name in command.model_fields_set - {"account_id"}
                   if (value := getattr(command, name)) is not None}
        if changed.get("number_format", self.number_format) == changed.get("credit_note_number_format",
                                                                             self.credit_note_number_format):
            raise RuleViolation("same_number_format", "Invoices and credit notes are numbered from series of their "
                                                      "own: give them different number formats.")
        for name, value in changed.items():
            setattr(self, name, value)
        settings = self.model_dump(mode="json", exclude=set(Aggregate.model_fields))
        self.record(AccountConfigured(account_id=self.id, settings={"account_id": self.id, **settings}))

    def credit_note_series_format(self) -> str:
        """The format credit notes are numbered from, never the invoices' series (an account that chose
        the credit-note default for its invoices before credit notes existed must choose another)."""
        if self.credit_note_number_format == self.number_format:
            raise RuleViolation("same_number_format", "The account's invoices use the credit-note number format "
                                                      f"{self.number_format!r}: configure credit_note_number_format.")
        return self.credit_note_number_format

    def auto_send(self, links: HostedLinks) -> AutoSend:
        return AutoSend(on_finalize=self.send_on_finalize, receipts=self.send_receipts,
                        credit_notes=self.send_credit_notes, links=links)

    def issuer(self) -> Issuer:
        """The issuer block of a finalized invoice; refuses when the account cannot bill yet."""
        missing = [
            name for name in ("company_name", "sender_email", "payee_iban") if getattr(self, name) is None
        ]
        if missing:
            raise RuleViolation(
                "account_not_configured",
                f"Configure the account's {', '.join(missing)} (account.configure) before finalizing invoices.",
            )
        return Issuer(
            company_name=self.company_name,
            email=self.sender_email,
            reply_to=self.reply_to,
            address=self.company_address,
            tax_id=self.company_tax_id,
        )
