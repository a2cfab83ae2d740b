"""Query Entities (clause 5.7.2): checks of a whole query, then one store query.

Parsing of the URL parameters or Query body happens in the API layer; this service holds the
rules that apply however the query arrived (limits, tenant).
"""

from __future__ import annotations

from cityhub.errors import BadRequestData, TooManyResults
from cityhub.query.ast import EntityQuery
from cityhub.services.tenants import require_tenant
from cityhub.storage.base import QueryResult, Store


class QueryService:
    def __init__(self, store: Store, *, max_limit: int) -> None:
        self.store = store
        self.max_limit = max_limit

    async def query_entities(
        self, tenant: str, query: EntityQuery, *, count: bool = False, ids_only: bool = False
    ) -> QueryResult:
        """Query Entities (5.7.2): one page in entity id order, and the total when counted.

        BadRequestData for limit 0 without count (clause 6.3.10); TooManyResults when the
        limit is above the hub's maximum (clause 5.5.9).
        """
        if query.limit < 0 or query.offset < 0:
            raise BadRequestData("limit and offset must not be negative")
        if query.limit == 0 and not count:
            raise BadRequestData("limit=0 is only allowed together with count=true")
        if query.limit > self.max_limit:
            raise TooManyResults(
                f"limit {query.limit} is above this hub's maximum of {self.max_limit}"
            )
        await require_tenant(self.store, tenant)
        return await self.store.query_entities(tenant, query, count=count, ids_only=ids_only)
