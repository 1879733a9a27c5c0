"""An account's invoicing settings, as the invoices service keeps them. The aggregate's id is the account's."""

from chassis.aggregate import Aggregate
from contracts.messages.common import Address, EmailAddress, Issuer
from contracts.messages.invoices import AccountConfigured, ConfigureAccount
from services.invoices.domain.errors import RuleViolation

DEFAULT_NUMBER_FORMAT = "INV-{yyyy}-{seq:05}"


class AccountSettings(Aggregate):
    company_name: str | None = None
    company_address: Address = Address()
    company_tax_id: str = ""
    sender_email: EmailAddress | None = None
    reply_to: EmailAddress | None = None
    payee_iban: str | None = None
    number_format: str = DEFAULT_NUMBER_FORMAT
    default_days_until_due: int = 30
    edit_finalized_invoices: bool = False
    delete_finalized_invoices: bool = False
    reminder_schedule: list[int] = []
    correction_rule: str = "void"

    def configure(self, command: ConfigureAccount) -> None:
        """Apply the settings the command names; the others keep their values."""
        if command.account_id != self.id:
            raise RuleViolation("account_mismatch", "An account can only configure itself.")
        for name in command.model_fields_set - {"account_id"}:
            if (value := getattr(command, name)) is not None:
                setattr(self, name, value)
        settings = self.model_dump(mode="json", exclude=set(Aggregate.model_fields))
        self.record(AccountConfigured(account_id=self.id, settings={"account_id": self.id, **settings}))

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
