-- Entity documents in the expanded form are 2–8 kB. In a WITHOUT ROWID table a row over
-- ~1/4 page spills into overflow pages, which made inserts and random reads 2–3× dearer; an
-- ordinary rowid table keeps such rows on its leaf pages and finds them by the primary key's
-- index. (New databases also use 8 kB pages, see store.py.)
CREATE TABLE entities_rowid (
    tenant TEXT NOT NULL,
    id TEXT NOT NULL,
    types TEXT NOT NULL,        -- JSON array of expanded type IRIs
    scopes TEXT,                -- JSON array of scopes, or NULL
    created_at TEXT NOT NULL,
    modified_at TEXT NOT NULL,
    doc TEXT NOT NULL,          -- JSON document of the whole entity
    PRIMARY KEY (tenant, id)
);
INSERT INTO entities_rowid (tenant, id, types, scopes, created_at, modified_at, doc)
    SELECT tenant, id, types, scopes, created_at, modified_at, doc FROM entities;
DROP TABLE entities;
ALTER TABLE entities_rowid RENAME TO entities;
