-- Temporal evolution of entities (clauses 4.5.6-4.5.8): every attribute instance a change
-- recorded (model/history.py), written in the transaction of the change. Times are
-- microseconds since 1970-01-01T00:00Z, so filters, ordering and aggregation buckets are
-- integer arithmetic; each instance's document keeps the texts as they were written.
CREATE TABLE temporal_entities (
    tenant TEXT NOT NULL,
    id TEXT NOT NULL,
    types TEXT NOT NULL,       -- JSON array of type IRIs (the latest)
    scopes TEXT,               -- JSON array of scopes (the latest)
    created_at TEXT NOT NULL,
    modified_at TEXT NOT NULL,
    deleted_at TEXT,           -- set while the entity itself is deleted
    PRIMARY KEY (tenant, id)
) WITHOUT ROWID;

CREATE TABLE attribute_instances (
    instance INTEGER PRIMARY KEY,   -- instanceId urn:ngsi-ld:Instance:<instance>
    tenant TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    attr TEXT NOT NULL,
    dataset_id TEXT NOT NULL,       -- '' for the default instance
    observed_at INTEGER,
    created_at INTEGER NOT NULL,
    modified_at INTEGER NOT NULL,
    deleted_at INTEGER,
    num REAL,                       -- model/history.py aggregable(): number, boolean, length
    str TEXT,                       -- a string value (lexicographic min/max)
    val TEXT,                       -- the value's canonical JSON, unless a number (distinctCount)
    doc TEXT NOT NULL               -- the instance (system members: the columns)
);
-- Range scans per (entity, attribute) in time order, covering what aggregation reads.
CREATE INDEX attribute_instances_observed
    ON attribute_instances (tenant, entity_id, attr, observed_at, dataset_id, num);
-- Retention (oldest recorded first per tenant) and createdAt queries.
CREATE INDEX attribute_instances_created ON attribute_instances (tenant, created_at);
-- Entities stored before history began get their record; their instances start with their
-- next change.
INSERT INTO temporal_entities (tenant, id, types, scopes, created_at, modified_at)
    SELECT tenant, id, types, scopes, created_at, modified_at FROM entities;
