"""Which messages of a batch the consumer handles one after the other."""

from aiokafka import ConsumerRecord

from chassis.consumer import Consumer, Decoded
from chassis.settings import ServiceSettings
from contracts.envelope import Envelope
from contracts.messages.payments import PaymentCommandRejected


def decoded(key: bytes | None, account: str, topic: str = "payments.transactions") -> Decoded:
    record = ConsumerRecord(topic=topic, partition=0, offset=0, timestamp=0, timestamp_type=0, key=key, value=b"{}",
                            checksum=None, serialized_key_size=0, serialized_value_size=2, headers=[])
    envelope = Envelope.originate(source="t", type="x", subject="s", accountid=account, actor="u")
    return Decoded(record, b"{}", envelope, None, None)


def consumer(in_order_per: str) -> Consumer:
    return Consumer(service="payments", broker=None, publisher=None, store=None, inbox=None, metrics=None,
                    settings=ServiceSettings(), rejection=PaymentCommandRejected, in_order_per=in_order_per)


def test_by_default_each_aggregate_keeps_its_order_on_every_topic_and_others_go_side_by_side():
    by_aggregate = consumer("aggregate")
    assert by_aggregate._order_key(decoded(b"inv_1", "a")) == by_aggregate._order_key(
        decoded(b"inv_1", "b", topic="invoices.events"))
    assert by_aggregate._order_key(decoded(b"inv_1", "a")) != by_aggregate._order_key(decoded(b"inv_2", "a"))


def test_a_service_ordered_per_account_handles_a_transfer_and_the_invoice_it_names_one_after_the_other():
    by_account = consumer("account")
    transfer = decoded(b"tx-1", "acct_a", topic="payments.transactions")
    invoice = decoded(b"inv_1", "acct_a", topic="invoices.events")
    assert by_account._order_key(transfer) == by_account._order_key(invoice)
    assert by_account._order_key(transfer) != by_account._order_key(decoded(b"tx-2", "acct_b"))
