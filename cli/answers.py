"""What the platform answered, as a person reads it: one short line per message of a flow.

    invoice.finalized inv_1: open, INV-2026-00001, 600,00 € due 2026-12-30
    rejected: invoice_not_editable — The invoice is open; ...

Amounts are written as the terminal's locale writes them (cli/amounts.py). `--json` prints the
messages whole instead.
"""

from typing import Any

from cli.amounts import money
from contracts.messages import REGISTRY
from contracts.messages.common import CommandRejected

# The fields a line names when the message has them, in this order.
_NAMED = ("number", "kind", "to", "recipients", "address", "match", "method", "reason", "smtp_code")


def is_rejection(type_name: str) -> bool:
    """A *.command_rejected or *.rejected: the platform refused the command it answers."""
    model = REGISTRY.get(type_name)
    return model is not None and issubclass(model, CommandRejected)


def line(type_name: str, subject: str, data: Any) -> str:
    if not isinstance(data, dict):
        return f"{type_name} {subject}: (not JSON)"
    if is_rejection(type_name):
        return f"rejected: {data.get('reason')} — {data.get('message')}"
    described = _invoice(data["invoice"]) if isinstance(data.get("invoice"), dict) else _fields(data)
    return f"{type_name} {subject}" + (f": {described}" if described else "")


def _invoice(invoice: dict) -> str:
    currency = invoice["currency"]
    parts = [invoice["status"], invoice.get("number")]
    if invoice["status"] == "open":
        parts.append(f"{money(invoice['amount_remaining'], currency)} due {invoice.get('due_date')}")
        if invoice.get("payment_pending"):
            parts.append("payment pending")
    else:
        parts.append(money(invoice["total"], currency))
    return ", ".join(part for part in parts if part)


def _fields(data: dict) -> str:
    parts = [", ".join(map(str, value)) if isinstance(value, list) else str(value)
             for name in _NAMED if (value := data.get(name)) not in (None, "", [])]
    if isinstance(data.get("amount"), int) and data.get("currency"):
        parts.insert(0, money(data["amount"], data["currency"]))
    return ", ".join(parts)
