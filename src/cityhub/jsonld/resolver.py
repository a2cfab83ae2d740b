"""Turning a request's @context (Link header or body) into a TermMap (clause 5.5.7).

Remote documents are fetched asynchronously, once, with time, size and count limits, and kept
in an LRU cache and in the store's context registry (so every worker and the @context API see
them). pyld then processes the context offline from those prefetched documents, and the
compiled TermMap is cached by the context's value.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
from pyld import jsonld

from cityhub.errors import BadRequestData, LdContextNotAvailable
from cityhub.jsonld.bundled import bundled_document, bundled_model
from cityhub.jsonld.core import CORE_CONTEXT_URL, core_context_document, is_core_context_url
from cityhub.jsonld.termmap import TermMap

log = logging.getLogger(__name__)

HOSTED_PATH = "/ngsi-ld/v1/jsonldContexts/"

# (url) -> document or None; lets the hub serve contexts it hosts or cached before.
StoredLookup = Callable[[str], Awaitable[dict[str, Any] | None]]
# (url, document) -> None; records a freshly fetched remote context.
StoredRecord = Callable[[str, dict[str, Any]], Awaitable[None]]


def hosted_context_id(url: str) -> str | None:
    """The local id when ``url`` points at this API's /jsonldContexts/{id} (any host)."""
    path = urlsplit(url).path
    if HOSTED_PATH in path:
        local_id = path.split(HOSTED_PATH, 1)[1]
        if local_id and "/" not in local_id:
            return local_id
    return None


class ContextResolver:
    """Resolves @context values to TermMaps, fetching remote documents with limits."""

    def __init__(
        self,
        *,
        fetch_timeout: float = 5.0,
        max_bytes: int = 1024 * 1024,
        max_fetches: int = 16,
        cache_size: int = 512,
        allow_hosts: str = "*",
        stored_lookup: StoredLookup | None = None,
        stored_record: StoredRecord | None = None,
        bundled: bool = True,
    ) -> None:
        self.fetch_timeout = fetch_timeout
        self.max_bytes = max_bytes
        self.max_fetches = max_fetches
        self.cache_size = cache_size
        hosts = {h.strip().lower() for h in allow_hosts.split(",") if h.strip()}
        self._allow_any = "*" in hosts
        self._allow_hosts = hosts
        self._documents: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._termmaps: OrderedDict[str, TermMap] = OrderedDict()
        self._inflight: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._stored_lookup = stored_lookup
        self._stored_record = stored_record
        self.bundled = bundled
        self._client: httpx.AsyncClient | None = None
        self._processor = jsonld.JsonLdProcessor()
        self.core = self._compile([CORE_CONTEXT_URL], {CORE_CONTEXT_URL: core_context_document()})

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def forget(self, url: str | None = None) -> None:
        """Drop a cached document (or all) and every compiled map, e.g. after a reload."""
        if url is None:
            self._documents.clear()
        else:
            self._documents.pop(url, None)
        self._termmaps.clear()

    async def resolve(self, context: Any) -> TermMap:
        """The TermMap for a request @context (None means the core context alone)."""
        if (
            context is None
            or context == []
            or (isinstance(context, str) and is_core_context_url(context))
        ):
            return self.core
        items = context if isinstance(context, list) else [context]
        for item in items:
            if not isinstance(item, str | dict):
                raise BadRequestData("@context must be a URL, an object or an array of them")
        key = orjson.dumps(items, option=orjson.OPT_SORT_KEYS).decode()
        cached = self._termmaps.get(key)
        if cached is not None:
            self._termmaps.move_to_end(key)
            return cached
        documents = await self._prefetch(items)
        termmap = self._compile([*items, CORE_CONTEXT_URL], documents)
        self._termmaps[key] = termmap
        if len(self._termmaps) > self.cache_size:
            self._termmaps.popitem(last=False)
        return termmap

    async def document(self, url: str) -> dict[str, Any]:
        """The @context document behind a URL: core, hosted, cached or freshly fetched."""
        if is_core_context_url(url):
            return core_context_document()
        model = bundled_model(url) if self.bundled else None
        if model is not None:
            return bundled_document(model)
        cached = self._documents.get(url)
        if cached is not None:
            self._documents.move_to_end(url)
            return cached
        inflight = self._inflight.get(url)
        if inflight is not None:
            return await asyncio.shield(inflight)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._inflight[url] = future
        try:
            doc = await self._load(url)
            future.set_result(doc)
            return doc
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters re-raise it themselves
            raise
        finally:
            del self._inflight[url]

    async def _load(self, url: str) -> dict[str, Any]:
        doc = None
        if self._stored_lookup is not None:
            doc = await self._stored_lookup(url)
        if doc is None:
            if hosted_context_id(url) is not None:
                raise LdContextNotAvailable(f"Hosted @context {url} does not exist")
            doc = await self._fetch(url)
            if self._stored_record is not None:
                await self._stored_record(url, doc)
        self._documents[url] = doc
        if len(self._documents) > self.cache_size:
            self._documents.popitem(last=False)
        return doc

    async def _fetch(self, url: str) -> dict[str, Any]:
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"}:
            raise LdContextNotAvailable(f"@context {url} is not an http(s) URL")
        host = (parts.hostname or "").lower()
        if not self._allow_any and host not in self._allow_hosts:
            raise LdContextNotAvailable(f"Fetching @context from host {host!r} is not allowed")
        if self._client is None:
            self._client = httpx.AsyncClient(follow_redirects=True, max_redirects=3)
        try:
            async with asyncio.timeout(self.fetch_timeout):
                async with self._client.stream(
                    "GET",
                    url,
                    headers={"Accept": "application/ld+json, application/json;q=0.9"},
                    timeout=self.fetch_timeout,
                ) as response:
                    if response.status_code != 200:
                        raise LdContextNotAvailable(
                            f"@context {url} answered HTTP {response.status_code}"
                        )
                    body = bytearray()
                    async for chunk in response.aiter_bytes():
                        body.extend(chunk)
                        if len(body) > self.max_bytes:
                            raise LdContextNotAvailable(
                                f"@context {url} is larger than {self.max_bytes} bytes"
                            )
        except TimeoutError as exc:
            raise LdContextNotAvailable(
                f"@context {url} did not arrive within {self.fetch_timeout} s"
            ) from exc
        except httpx.HTTPError as exc:
            raise LdContextNotAvailable(f"@context {url} cannot be retrieved: {exc}") from exc
        try:
            doc = orjson.loads(bytes(body))
        except orjson.JSONDecodeError as exc:
            raise LdContextNotAvailable(f"@context {url} is not valid JSON") from exc
        if not isinstance(doc, dict) or "@context" not in doc:
            raise LdContextNotAvailable(f"@context {url} is not a JSON-LD context document")
        return doc

    async def _prefetch(self, items: list[Any]) -> dict[str, dict[str, Any]]:
        """Fetch every remote document the context needs, following nested references."""
        documents: dict[str, dict[str, Any]] = {}
        pending = _context_urls(items)
        fetches = 0
        while pending:
            batch = [url for url in dict.fromkeys(pending) if url not in documents]
            pending = []
            remote = [u for u in batch if u not in self._documents and not self._is_local(u)]
            fetches += len(remote)
            if fetches > self.max_fetches:
                raise LdContextNotAvailable(
                    f"The @context needs more than {self.max_fetches} remote documents"
                )
            results = await asyncio.gather(*(self.document(url) for url in batch))
            for url, doc in zip(batch, results, strict=True):
                documents[url] = doc
                pending.extend(_context_urls([doc.get("@context")]))
        return documents

    def _is_local(self, url: str) -> bool:
        """Whether a context URL is answered without a fetch (core or bundled)."""
        return is_core_context_url(url) or (self.bundled and bundled_model(url) is not None)

    def _compile(self, items: list[Any], documents: dict[str, dict[str, Any]]) -> TermMap:
        def loader(url: str, options: Any = None) -> dict[str, Any]:
            doc = documents.get(url)
            if doc is None and is_core_context_url(url):
                doc = core_context_document()
            if doc is None:
                raise LdContextNotAvailable(f"@context {url} was not prefetched")
            return {"contextUrl": None, "documentUrl": url, "document": doc}

        options = {"documentLoader": loader, "base": "", "processingMode": "json-ld-1.1"}
        try:
            initial = self._processor._get_initial_context(options)
            active = self._processor.process_context(initial, items, options)
        except LdContextNotAvailable:
            raise
        except Exception as exc:  # pyld raises JsonLdError with nested causes
            raise BadRequestData(f"The @context is not a valid JSON-LD context: {exc}") from exc
        return TermMap.from_active_context(active)


def _context_urls(items: list[Any]) -> list[str]:
    """URLs referenced by a @context value, including nested @context and @import members."""
    urls: list[str] = []
    stack = list(items)
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            urls.append(item)
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            imported = item.get("@import")
            if isinstance(imported, str):
                urls.append(imported)
            for value in item.values():
                if isinstance(value, dict) and "@context" in value:
                    stack.append(value["@context"])
    return urls
