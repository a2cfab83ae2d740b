-- String equality index (storage/sql/strings.py), written by the store with each entity
-- (storage/postgres/store.py) instead of by triggers as in migration 005, which made every
-- write ~0.4 ms dearer. Entities stored before are indexed here with every string of their
-- attributes' values (a superset of what the store writes; the index is a prefilter).

CREATE TABLE entity_strings (
    tenant TEXT NOT NULL,
    attr TEXT NOT NULL,
    value TEXT NOT NULL,
    id TEXT NOT NULL,
    PRIMARY KEY (tenant, attr, value, id)
);
CREATE INDEX entity_strings_entity ON entity_strings (tenant, id);

INSERT INTO entity_strings (tenant, attr, value, id)
    SELECT DISTINCT e.tenant, a.key, s #>> '{}', e.id
    FROM entities e, jsonb_each(e.doc) a, cityhub_elements(a.value) i,
         jsonb_path_query(cityhub_q_root(i), 'lax $.**') s
    WHERE jsonb_typeof(s) = 'string' AND length(s #>> '{}') <= 256
    ON CONFLICT DO NOTHING;
