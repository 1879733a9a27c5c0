"""The placeholders of an account's own mail texts (`account.configure`'s `mail_texts`): the one
list of what a subject or body may name in braces, and its check where the texts arrive.

A text is a str.format template restricted to plain names: `{number}`, `{{` and `}}` for literal
braces. Attribute or index access (`{number.__class__}`, `{number[0]}`), format specs (`{total:>9}`),
conversions (`{number!r}`), positional fields (`{}`) and unbalanced braces are refused, so filling a
text in can only ever put the values below into it. A credit note's mail has no amount owed or due
date: it names only the placeholders marked for it. The mailer fills the values in, formatted in
the mail's language (services.mailer.domain.wording).
"""

from dataclasses import dataclass
from string import Formatter

from pydantic_core import PydanticCustomError


@dataclass(frozen=True)
class Placeholder:
    meaning: str
    credit_note: bool  # whether a credit note's mail has it


PLACEHOLDERS: dict[str, Placeholder] = {
    "number": Placeholder("The number of the mail's document: the invoice's, or the credit note's", True),
    "invoice_number": Placeholder("The invoice's number; for a credit note, the invoice it corrects", True),
    "company_name": Placeholder("The account's company name", True),
    "customer_name": Placeholder("The customer's name", True),
    "total": Placeholder("The document's total, as the mail's language writes amounts (600,00 € in French)", True),
    "amount_due": Placeholder("What the invoice asks for, after credit notes and the customer's balance", False),
    "amount_paid": Placeholder("What is paid of it so far", False),
    "amount_remaining": Placeholder("What is still owed", False),
    "due_date": Placeholder("The due date, as the mail's language writes dates; empty when it has none", False),
    "hosted_url": Placeholder("The address of the invoice's page; empty when the mail carries no link", True),
}
CREDIT_NOTE_PLACEHOLDERS = tuple(name for name, placeholder in PLACEHOLDERS.items() if placeholder.credit_note)


def _known(names) -> str:
    return ", ".join(f"{{{name}}}" for name in names)


def _refusal(message: str) -> PydanticCustomError:
    # The error type is the reason code the rejection carries (see contracts.reasons). The message
    # is made here, whole: a user's text in pydantic's message template would be read as one.
    return PydanticCustomError("invalid_mail_text", "{message}", {"message": message})


def _refused(template: str, problem: str) -> PydanticCustomError:
    return _refusal(f"{problem} in {template!r}; the placeholders are {_known(PLACEHOLDERS)}")


def placeholders_in(template: str) -> list[str]:
    """The names a text fills in, in order; refuses a text that is not made of plain placeholders."""
    try:
        fields = [(name, spec, conversion) for _, name, spec, conversion in Formatter().parse(template)
                  if name is not None]
    except ValueError as error:  # "Single '}' encountered", "expected '}' before end of string"
        raise _refused(template, f"unbalanced braces ({error}; write {{{{ and }}}} for a brace)") from None
    for name, spec, conversion in fields:
        if name not in PLACEHOLDERS:
            raise _refused(template, f"unknown placeholder {{{name}}}")
        if spec or conversion:
            raise _refused(template, f"{{{name}}} has a format or conversion (write {{{name}}} alone)")
    return [name for name, _, _ in fields]


def checked_text(template: str) -> str:
    placeholders_in(template)
    return template


def checked_kind(kind: str, subject: str | None, body: str | None) -> None:
    """Refuses the placeholders a mail of `kind` has no value for."""
    if kind != "credit_note":
        return
    for template in (subject, body):
        for name in placeholders_in(template or ""):
            if name not in CREDIT_NOTE_PLACEHOLDERS:
                raise _refusal(f"a credit note's mail has no {{{name}}} (in {template!r}); its placeholders are "
                               f"{_known(CREDIT_NOTE_PLACEHOLDERS)}")
