-- Tenants are created on first write (NGSILD-Tenant, clause 6.3.14).
CREATE TABLE tenants (
    name TEXT PRIMARY KEY,
    created_at TEXT NOT NULL
);

-- Current state of every entity, in the hub's context-independent expanded form.
CREATE TABLE entities (
    tenant TEXT NOT NULL,
    id TEXT NOT NULL,
    types TEXT NOT NULL,        -- JSON array of expanded type IRIs
    scopes TEXT,                -- JSON array of scopes, or NULL
    created_at TEXT NOT NULL,
    modified_at TEXT NOT NULL,
    doc TEXT NOT NULL,          -- JSON document of the whole entity
    PRIMARY KEY (tenant, id)
) WITHOUT ROWID;

-- The @context registry (clause 5.13): hosted, cached and implicitly created contexts.
CREATE TABLE jsonld_contexts (
    local_id TEXT PRIMARY KEY,
    url TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_usage TEXT,
    hits INTEGER NOT NULL DEFAULT 0
);
