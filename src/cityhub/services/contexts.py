"""The @context registry and API (clause 5.13): hosted, cached and implicitly created contexts.

Remote contexts the resolver downloads are recorded as Cached, contexts clients upload are
Hosted, and inline contexts used in requests become ImplicitlyCreated (content-addressed), so
each has a URL other hubs and notifications can use.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import orjson

from cityhub.errors import (
    BadRequestData,
    OperationNotSupported,
    ResourceNotFound,
)
from cityhub.jsonld.resolver import HOSTED_PATH, ContextResolver, hosted_context_id
from cityhub.jsonld.termmap import TermMap
from cityhub.model.values import now_iso
from cityhub.settings import Settings
from cityhub.storage.base import ContextRecord, Store

CACHED = "Cached"
HOSTED = "Hosted"
IMPLICIT = "ImplicitlyCreated"
KINDS = (CACHED, HOSTED, IMPLICIT)
# LdContextMetadata.localId is a URI (clause 5.13.3.5); the path accepts it with or without.
LOCAL_ID_PREFIX = "urn:ngsi-ld:local:"


class ContextService:
    """Resolves request contexts and manages the registry behind /jsonldContexts."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self._implicit_known: set[str] = set()
        self.resolver = ContextResolver(
            fetch_timeout=settings.context_fetch_timeout,
            max_bytes=settings.context_max_bytes,
            max_fetches=settings.context_max_fetches,
            cache_size=settings.context_cache_size,
            allow_hosts=settings.context_allow_hosts,
            stored_lookup=self._lookup,
            stored_record=self._record_cached,
            bundled=settings.bundled_contexts,
        )

    async def aclose(self) -> None:
        await self.resolver.aclose()

    async def resolve(self, context: Any) -> TermMap:
        return await self.resolver.resolve(context)

    async def _lookup(self, url: str) -> dict[str, Any] | None:
        local_id = hosted_context_id(url)
        record = (
            await self.store.get_context(local_id)
            if local_id is not None
            else await self.store.get_context_by_url(url)
        )
        if record is None:
            return None
        await self.store.touch_context(record.local_id, now_iso())
        return record.body

    async def _record_cached(self, url: str, document: dict[str, Any]) -> None:
        local_id = hashlib.sha256(url.encode()).hexdigest()[:32]
        await self.store.put_context(ContextRecord(local_id, url, CACHED, document, now_iso()))

    async def add_hosted(self, body: Any, base_url: str) -> str:
        """Add @context (5.13.2): store the body's @context and return its URL."""
        if not isinstance(body, dict) or "@context" not in body:
            raise BadRequestData("The body must be a JSON object with an @context member")
        context = body["@context"]
        if not isinstance(context, dict | list | str):
            raise BadRequestData("@context must be an object, an array or a URL")
        await self.resolver.resolve(context)  # rejects contexts that are not valid JSON-LD
        local_id = uuid.uuid4().hex
        url = base_url.rstrip("/") + HOSTED_PATH + local_id
        await self.store.put_context(
            ContextRecord(local_id, url, HOSTED, {"@context": context}, now_iso())
        )
        return url

    async def implicit_url(self, context: Any, base_url: str) -> str:
        """The URL of an ImplicitlyCreated context for an inline @context value."""
        digest = hashlib.sha256(orjson.dumps(context, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]
        url = base_url.rstrip("/") + HOSTED_PATH + digest
        if digest not in self._implicit_known:
            if await self.store.get_context(digest) is None:
                record = ContextRecord(digest, url, IMPLICIT, {"@context": context}, now_iso())
                await self.store.put_context(record)
            self._implicit_known.add(digest)
        return url

    async def list(self, kind: str | None) -> list[ContextRecord]:
        """List @contexts (5.13.3)."""
        if kind is not None and kind not in KINDS:
            raise BadRequestData(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
        return await self.store.list_contexts(kind)

    async def find(self, context_id: str) -> ContextRecord:
        """The stored @context named by ``contextId`` (clause 6.30.2): its localId as listed in
        LdContextMetadata (``urn:ngsi-ld:local:<id>``), the last segment of its hosted URL
        (``<id>``), or, for a Cached one, the original URL it was downloaded from."""
        local_id = context_id.removeprefix(LOCAL_ID_PREFIX)
        record = await self.store.get_context(local_id) if local_id else None
        if record is None:
            by_url = await self.store.get_context_by_url(context_id)
            if by_url is not None and by_url.kind == CACHED:
                record = by_url
        if record is None:
            raise ResourceNotFound(f"@context {context_id} is not stored here")
        return record

    async def serve(self, context_id: str) -> dict[str, Any]:
        """Serve @context (5.13.4): the body of a Hosted or ImplicitlyCreated context."""
        record = await self.find(context_id)
        if record.kind == CACHED:
            raise OperationNotSupported(
                f"@context {context_id} is a cached copy of {record.url}; fetch it from there"
            )
        await self.store.touch_context(record.local_id, now_iso())
        return record.body

    async def delete(self, context_id: str, *, reload: bool) -> None:
        """Delete and Reload @context (5.13.5)."""
        record = await self.find(context_id)
        if reload and record.kind != CACHED:
            raise BadRequestData("Only a Cached @context can be reloaded")
        await self.store.delete_context(record.local_id)
        self.resolver.forget(record.url)
        self._implicit_known.discard(record.local_id)
        if reload:
            await self.resolver.document(record.url)

    @staticmethod
    def metadata(record: ContextRecord) -> dict[str, Any]:
        """LdContextMetadata (clause 5.13.3.5)."""
        info: dict[str, Any] = {
            "URL": record.url,
            "localId": LOCAL_ID_PREFIX + record.local_id,
            "kind": record.kind,
            "timestamp": record.created_at,
        }
        if record.last_usage:
            info["lastUsage"] = record.last_usage
        info["numberOfHits"] = record.hits
        return info
