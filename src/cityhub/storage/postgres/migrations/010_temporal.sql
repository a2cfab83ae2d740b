-- Temporal evolution of entities (clauses 4.5.6-4.5.8): every attribute instance a change
-- recorded (model/history.py), written in the transaction of the change. Times are
-- microseconds since 1970-01-01T00:00Z, as on SQLite, so both stores share one SQL for
-- filters, ordering and aggregation buckets (storage/sql/temporal_sql.py). The instances
-- table is partitioned by month of recording (created_at): retention drops whole months
-- where it can, and each partition's indexes stay the size of a month. The store creates
-- each month's partition ahead of time (storage/postgres/history.py); rows recorded at any
-- other time (a clock far off, imported data) land in the default partition.
CREATE TABLE temporal_entities (
    tenant TEXT NOT NULL,
    id TEXT NOT NULL,
    types TEXT[] NOT NULL,
    scopes TEXT[],
    created_at TEXT NOT NULL,
    modified_at TEXT NOT NULL,
    deleted_at TEXT,
    PRIMARY KEY (tenant, id)
);

-- One row per attribute of an entity with history: instances refer to it by number, which
-- keeps their rows and index keys small. Never deleted, so a number once known stays right
-- (the stores cache them).
CREATE TABLE temporal_series (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    attr TEXT NOT NULL,
    UNIQUE (tenant, entity_id, attr)
);

CREATE SEQUENCE attribute_instance_numbers;
CREATE TABLE attribute_instances (
    instance BIGINT NOT NULL DEFAULT nextval('attribute_instance_numbers'),
    series BIGINT NOT NULL,         -- temporal_series.id: tenant, entity and attribute
    dataset_id TEXT NOT NULL,       -- '' for the default instance
    observed_at BIGINT,
    created_at BIGINT NOT NULL,
    modified_at BIGINT NOT NULL,
    deleted_at BIGINT,
    num DOUBLE PRECISION,           -- model/history.py aggregable(): number, boolean, length
    str TEXT,                       -- a string value (lexicographic min/max)
    val TEXT,                       -- the value's canonical JSON, unless a number (distinctCount)
    doc JSONB NOT NULL              -- the instance (system members: the columns)
) PARTITION BY RANGE (created_at);
ALTER SEQUENCE attribute_instance_numbers OWNED BY attribute_instances.instance;
CREATE INDEX attribute_instances_series
    ON attribute_instances (series, observed_at) INCLUDE (dataset_id, num);
CREATE INDEX attribute_instances_created ON attribute_instances (created_at);
CREATE TABLE attribute_instances_default PARTITION OF attribute_instances DEFAULT;
-- Entities stored before history began get their record; their instances start with their
-- next change.
INSERT INTO temporal_entities (tenant, id, types, scopes, created_at, modified_at)
    SELECT tenant, id, types, scopes, created_at, modified_at FROM entities;
