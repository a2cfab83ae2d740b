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

-- One row per attribute of an entity with history: instances refer to it by number, which
-- keeps their rows and index keys small (the long IRIs once here, not in every instance:
-- a recorded instance costs a quarter of the time to insert). Never deleted, so a number
-- once known stays right (the stores cache them).
CREATE TABLE temporal_series (
    id INTEGER PRIMARY KEY,
    tenant TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    attr TEXT NOT NULL,
    UNIQUE (tenant, entity_id, attr)
);

CREATE TABLE attribute_instances (
    instance INTEGER PRIMARY KEY,   -- instanceId urn:ngsi-ld:Instance:<instance>
    series INTEGER NOT NULL,        -- temporal_series.id: tenant, entity and attribute
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
-- Range scans per attribute of an entity in time order. The only index: each one more costs
-- every recorded instance a B-tree insert; retention walks the rowid order, which is the
-- order of recording.
CREATE INDEX attribute_instances_series ON attribute_instances (series, observed_at);
-- Entities stored before history began get their record; their instances start with their
-- next change.
INSERT INTO temporal_entities (tenant, id, types, scopes, created_at, modified_at)
    SELECT tenant, id, types, scopes, created_at, modified_at FROM entities;
