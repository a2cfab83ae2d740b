-- The attribute value index (storage/sql/value_index.py), kept off the write path: a write
-- appends its entity ids to value_index_pending (one page at the end of a table, where index
-- rows at ~20 random places cost a single-entity commit twice its time), and the store's
-- indexer (storage/sqlite/value_rows.py) moves them into the index in batches. A query takes
-- the index's candidates plus every pending entity, so it never misses a write.
CREATE TABLE entity_numbers (
    k INTEGER NOT NULL,        -- attribute key: CRC-32 of tenant and attribute IRI
    value REAL NOT NULL,
    entity_id TEXT NOT NULL,
    PRIMARY KEY (k, value, entity_id)
) WITHOUT ROWID;
CREATE TABLE entity_strings (
    h INTEGER NOT NULL,        -- attribute key << 32 | CRC-32 of the text
    entity_id TEXT NOT NULL,
    PRIMARY KEY (h, entity_id)
) WITHOUT ROWID;
-- What the index holds for each entity, so the indexer removes exactly those rows.
CREATE TABLE entity_value_keys (
    tenant TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    keys TEXT NOT NULL,        -- {"n": [[k, value], …], "s": [h, …]}
    PRIMARY KEY (tenant, entity_id)
) WITHOUT ROWID;
CREATE TABLE value_index_pending (
    seq INTEGER PRIMARY KEY,
    tenant TEXT NOT NULL,
    entity_id TEXT NOT NULL
);
INSERT INTO value_index_pending (tenant, entity_id) SELECT tenant, id FROM entities;
