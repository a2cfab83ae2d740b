"""Tenant checks for reads (clause 6.3.14): an unknown tenant is a NonexistentTenant."""

from __future__ import annotations

from cityhub.errors import NonexistentTenant
from cityhub.storage.base import DEFAULT_TENANT, Store


async def require_tenant(store: Store, tenant: str) -> None:
    """Reads on a tenant never written to are 404 NonexistentTenant; the default always exists."""
    if tenant != DEFAULT_TENANT and not await store.tenant_exists(tenant):
        raise NonexistentTenant(f"Tenant {tenant} does not exist")
