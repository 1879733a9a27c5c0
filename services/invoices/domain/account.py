"""An account's invoicing settings, as the invoices service keeps them."""

from pydantic import BaseModel, ConfigDict, EmailStr

from contracts.messages.common import Address, Issuer
from contracts.messages.invoices import ConfigureAccount
from services.invoices.domain.errors import RuleViolation

DEFAULT_NUMBER_FORMAT = "INV-{yyyy}-{seq:05}"


class AccountSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    account_id: str
    company_name: str | None = None
    company_address: Address = Address()
    company_tax_id: str = ""
    sender_email: EmailStr | None = None
    reply_to: EmailStr | None = None
    payee_iban: str | None = None
    number_format: str = DEFAULT_NUMBER_FORMAT
    default_days_until_due: int = 30
    edit_finalized_invoices: bool = False
    delete_finalized_invoices: bool = False

    def configured(self, command: ConfigureAccount) -> "AccountSettings":
        changes = command.model_dump(exclude_unset=True, exclude={"account_id"})
        return self.model_copy(update={k: v for k, v in changes.items() if v is not None})

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
