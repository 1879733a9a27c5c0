"""Rendering documents for a service: in worker processes, each within a time limit, each document
kept in a bounded cache.

A document costs milliseconds to a second of CPU (a 500-line invoice in Chinese), and the services
that render it run a Kafka consumer and an HTTP API on one event loop; so documents render in
worker processes of their own, started on the first document and reused. A render that takes
longer than DOCUMENT_RENDER_SECONDS (10) is stopped by killing its worker (a new one starts for
the next document) and fails with RenderFailed, as does a render that raises or whose worker dies.

A rendered document is kept, in the process that asked for it, under the digest of everything it
is rendered from: what the document prints (documents.model.Document, drawn from the invoice or
credit note snapshot), the issuer and the language. The same document asked for again (the hosted
page downloaded twice, the PDF API, a mail sent again, a reminder, a retried delivery) is not
rendered again, also from a newer version of the invoice that changed nothing printed (the time it
was sent, a reminder asked for: each a version of its own); an invoice paid since, or an issuer
that changed in between (the mailer prints the account's current one), is a new document. The cache holds at most
DOCUMENT_CACHE_MIB (32) MiB of documents, the least recently used leaving first; two requests for
one document at once render it once.

What renders (reportlab, Pillow, lxml: some 12 MiB resident) is imported by the workers, and by
the calling process only when it renders itself (no workers): a service's own process never does.
"""

import asyncio
import hashlib
import multiprocessing
from collections import OrderedDict
from multiprocessing.connection import Connection

from pydantic import Field, TypeAdapter
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.messages.common import Issuer
from documents.model import Document, Source, document_of


class DocumentSettings(BaseSettings):
    """Read from the environment by every service that renders documents (the same variables for
    all: they share one environment)."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    # A render taking longer is killed and answered as failed (the hosted page 503, a mail a failed try).
    document_render_seconds: float = Field(10, gt=0)
    # Rendered documents kept per service process; 0 keeps none.
    document_cache_mib: float = Field(32, ge=0)


class RenderFailed(Exception):
    """The document could not be rendered; the message says why, in a sentence."""


class DocumentRenderer:
    """Documents of invoices and credit notes, rendered in up to `processes` worker processes (0: in the calling
    thread, without a time limit, for tests and benches) and cached. `renders` counts the documents
    actually rendered."""

    def __init__(self, processes: int, settings: DocumentSettings | None = None) -> None:
        settings = settings or DocumentSettings()
        self.processes = processes
        self.seconds = settings.document_render_seconds
        self.cache = DocumentCache(int(settings.document_cache_mib * 2**20))
        self.renders = 0
        self._rendering: dict[str, asyncio.Future[bytes]] = {}
        self._idle: list[_Worker] = []
        self._started = 0
        self._freed = asyncio.Condition()

    async def document(self, source: Source, issuer: Issuer, language: str) -> bytes:
        key = _digest(source, issuer, language)
        if (cached := self.cache.get(key)) is not None:
            return cached
        rendering = self._rendering.get(key)
        if rendering is None:  # else asked for while it renders: that render answers both
            rendering = self._rendering[key] = asyncio.ensure_future(self._render_and_keep(key, source, issuer, language))
            rendering.add_done_callback(lambda done: done.cancelled() or done.exception())  # retrieved for any waiter
        # A caller that gives up (a closed connection) leaves the render to finish for the others and the cache.
        return await asyncio.shield(rendering)

    async def _render_and_keep(self, key: str, source: Source, issuer: Issuer, language: str) -> bytes:
        try:
            document = await self._render(source, issuer, language)
        finally:
            del self._rendering[key]
        self.cache.put(key, document)
        return document

    async def _render(self, source: Source, issuer: Issuer, language: str) -> bytes:
        self.renders += 1
        if not self.processes:
            from documents.document import render_document

            try:
                return render_document(source, issuer, language)
            except Exception as error:
                raise RenderFailed(f"The document could not be rendered: {type(error).__name__}: {error}") from error
        worker = await self._worker()
        done = False
        try:
            rendered, outcome = await asyncio.wait_for(asyncio.to_thread(worker.exchange, (source, issuer, language)),
                                                       self.seconds)
            done = True
        except TimeoutError:
            raise RenderFailed(f"The document took longer than {self.seconds:g} s to render and was stopped.") from None
        except (EOFError, OSError) as error:
            raise RenderFailed("The process rendering the document ended before the document was done.") from error
        finally:
            await self._release(worker, keep=done)
        if not rendered:
            raise RenderFailed(f"The document could not be rendered: {outcome}")
        return outcome

    async def _worker(self) -> "_Worker":
        async with self._freed:
            await self._freed.wait_for(lambda: self._idle or self._started < self.processes)
            if self._idle:
                return self._idle.pop()
            self._started += 1
        return _Worker()

    async def _release(self, worker: "_Worker", keep: bool) -> None:
        """Back to the idle workers after a whole exchange; otherwise (stopped, cancelled, broken)
        the worker may still be rendering or its pipe be half read: it is killed."""
        async with self._freed:
            if keep:
                self._idle.append(worker)
            else:
                worker.kill()
                self._started -= 1
            self._freed.notify()

    def close(self) -> None:
        """Ends the idle workers; the next document starts new ones."""
        idle, self._idle = self._idle, []
        self._started -= len(idle)
        for worker in idle:
            worker.kill()


class DocumentCache:
    """Documents by key, at most `capacity` bytes of them; the least recently used leave first."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.size = 0
        self._documents: OrderedDict[str, bytes] = OrderedDict()

    def get(self, key: str) -> bytes | None:
        document = self._documents.get(key)
        if document is not None:
            self._documents.move_to_end(key)
        return document

    def put(self, key: str, document: bytes) -> None:
        if len(document) > self.capacity or key in self._documents:
            return
        self._documents[key] = document
        self.size += len(document)
        while self.size > self.capacity:
            _, evicted = self._documents.popitem(last=False)
            self.size -= len(evicted)


_DOCUMENT = TypeAdapter(Document)


def _digest(source: Source, issuer: Issuer, language: str) -> str:
    # render_document draws everything from these three (the document's kind tells an invoice from
    # a credit note), so equal digests are equal documents.
    digest = hashlib.sha256(_DOCUMENT.dump_json(document_of(source)))
    digest.update(b"\0" + issuer.model_dump_json().encode() + b"\0" + language.encode())
    return digest.hexdigest()


class _Worker:
    """One process rendering one document at a time, over a pipe. Spawned, not forked: a fork would
    copy the service's threads' locks in whatever state. It ends when the pipe closes, so also when
    the service is killed outright."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self.connection, theirs = context.Pipe()
        self.process = context.Process(target=_serve, args=(theirs,), name="document-renderer", daemon=True)
        self.process.start()
        theirs.close()

    def exchange(self, request: tuple[Source, Issuer, str]) -> tuple[bool, bytes | str]:
        """Blocking: run in a thread."""
        self.connection.send(request)
        return self.connection.recv()

    def kill(self) -> None:
        # The pipe is left to close when the thread reading it has let go (the worker's end closed
        # with it): closed under that thread, its descriptor could be reused by another file.
        self.process.kill()
        self.process.join(5)


def _serve(connection: Connection) -> None:
    from documents.document import render_document

    while True:
        try:
            source, issuer, language = connection.recv()
        except EOFError:
            return
        try:
            outcome: tuple[bool, bytes | str] = (True, render_document(source, issuer, language))
        except Exception as error:
            outcome = (False, f"{type(error).__name__}: {error}")
        try:
            connection.send(outcome)
        except OSError:
            return
