"""Documents rendered for a service: in a worker process, within a time limit, cached per invoice
version and language, within a bounded size."""

import asyncio

import pytest

from contracts.messages.bounds import MAX_LINES
from documents.rendering import DocumentCache, DocumentRenderer, DocumentSettings, RenderFailed
from tests.unit.documents.samples import invoice


def long_invoice():
    line = {"description": "软件开发与现场培训服务" * 45, "quantity": "1", "unit_amount": 1000, "tax_rate": "20",
            "amount": 1000, "tax_amount": 200}
    return invoice(lines=[line] * MAX_LINES, subtotal=1000 * MAX_LINES, tax=200 * MAX_LINES, total=1200 * MAX_LINES,
                   amount_paid=0, amount_due=1200 * MAX_LINES, amount_remaining=1200 * MAX_LINES)


async def test_a_render_over_the_time_limit_is_killed_and_the_next_document_renders_in_a_new_worker():
    renderer = DocumentRenderer(1, DocumentSettings(document_render_seconds=10))
    try:
        snapshot = invoice()
        await renderer.document(snapshot, snapshot.issuer, "de")  # a worker started, warm
        [worker] = renderer._idle
        renderer.seconds = 0.05
        big = long_invoice()
        with pytest.raises(RenderFailed, match="longer than 0.05 s"):
            await renderer.document(big, big.issuer, "de")
        assert not worker.process.is_alive() and renderer._idle == []
        renderer.seconds = 10
        pdf = await renderer.document(snapshot, snapshot.issuer, "fr")
        assert pdf.startswith(b"%PDF-") and renderer._idle[0] is not worker
    finally:
        renderer.close()


async def test_a_document_asked_for_again_or_at_once_twice_renders_once():
    renderer = DocumentRenderer(1)
    try:
        snapshot = invoice()
        first, second = await asyncio.gather(*(renderer.document(snapshot, snapshot.issuer, "de") for _ in range(2)))
        again = await renderer.document(invoice(), snapshot.issuer, "de")  # an equal snapshot, read again
        assert first == second == again and renderer.renders == 1
        await renderer.document(invoice(version=5), snapshot.issuer, "de")  # a version that printed nothing new
        assert renderer.renders == 1
        await renderer.document(invoice(version=6, memo="Delivered on 3 March."), snapshot.issuer, "de")
        await renderer.document(snapshot, snapshot.issuer.model_copy(update={"company_name": "Renamed SA"}), "de")
        assert renderer.renders == 3
    finally:
        renderer.close()


async def test_a_render_that_fails_is_answered_with_a_sentence_and_not_cached(monkeypatch):
    def broken(*_):
        raise ValueError("no glyph")

    monkeypatch.setattr("documents.document.render_document", broken)
    renderer = DocumentRenderer(0)
    snapshot = invoice()
    with pytest.raises(RenderFailed, match="could not be rendered: ValueError: no glyph"):
        await renderer.document(snapshot, snapshot.issuer, "de")
    assert renderer.cache.size == 0 and renderer._rendering == {}


def test_the_cache_keeps_at_most_its_capacity_dropping_the_least_recently_used():
    cache = DocumentCache(capacity=10)
    cache.put("a", b"1234")
    cache.put("b", b"1234")
    assert cache.get("a") == b"1234"  # a is now the most recently used
    cache.put("c", b"1234")
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (b"1234", None, b"1234")
    assert cache.size == 8
    cache.put("d", b"x" * 11)  # larger than the whole cache: not kept
    assert cache.get("d") is None and cache.size == 8
