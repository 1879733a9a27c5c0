"""The steps of a flow the platform runs itself (a balance crediting or paying an invoice, a
revision settling its original) are refused from an integrator's topic, even for an account
granted to it: no integrator mints a customer's credit or settles an invoice by sending them."""

from datetime import UTC, datetime

import pytest

from contracts.messages import REGISTRY, access
from contracts.messages.balances import ApplyBalanceToInvoice, CreditCustomerBalance, balance_key
from contracts.messages.invoices import SettleRevisedInvoice
from services.invoices.adapters.customer_balances import CustomerBalances
from tests.unit.harness import ACCOUNT, Platform, only

KEY = balance_key(ACCOUNT, "cus_1", "EUR")
INTERNAL = {
    "customer_balance.credit": CreditCustomerBalance(balance_key=KEY, kind="overpayment", source_id="inv_x/p1",
                                                     invoice_id="inv_x", amount=10**14),
    "invoice.apply_balance": ApplyBalanceToInvoice(invoice_id="inv_1", balance_key=KEY, movement_id="m1",
                                                   amount=10**14),
    "invoice.settle_revision": SettleRevisedInvoice(invoice_id="inv_1", revision_id="inv_2",
                                                    revision_number="INV-2026-00002"),
}


async def granted_platform() -> Platform:
    platform = Platform("invoices")
    await platform.send(access.AccessGranted(grant_key=access.grant_key("crm", ACCOUNT), integrator="crm",
                                             account_id=ACCOUNT, granted_at=datetime.now(UTC), granted_by="user:ops"))
    return platform


def test_the_internal_commands_are_the_flows_steps_only():
    assert sorted(name for name, model in REGISTRY.items() if model.internal) == sorted(
        [*INTERNAL, "customer_balance.apply"])


@pytest.mark.parametrize("type_name", INTERNAL)
async def test_an_integrator_granted_the_account_may_not_send_an_internal_command(type_name):
    platform = await granted_platform()
    answers = await platform.send(INTERNAL[type_name], topic="invoices.commands.from.crm", follow=False)
    refused = only(answers, "invoice.command_rejected")
    assert (refused.reason, refused.command_type) == ("internal_command", type_name)
    assert len(answers) == 1  # nothing else happened


async def test_a_credit_from_an_integrator_mints_nothing_and_the_platforms_own_still_credits():
    platform = await granted_platform()
    balances = CustomerBalances(platform.invoices.store)
    await platform.send(INTERNAL["customer_balance.credit"], topic="invoices.commands.from.crm")
    assert await balances.available(ACCOUNT, "cus_1", "EUR") == 0
    changed = only(await platform.send(INTERNAL["customer_balance.credit"], follow=False), "customer_balance.changed")
    assert changed.balance == 10**14
