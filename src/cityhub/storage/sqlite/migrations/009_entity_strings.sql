-- String equality index (storage/sql/strings.py), written by the store with each entity
-- (storage/sqlite/index_tables.py) instead of by triggers as in migration 004, which made
-- every write ~0.8 ms dearer. Entities stored before are indexed here with every string of
-- their attributes' values (a superset of what the store writes; the index is a prefilter).

CREATE TABLE entity_strings (
    tenant TEXT NOT NULL,
    attr TEXT NOT NULL,
    value TEXT NOT NULL,
    id TEXT NOT NULL,
    PRIMARY KEY (tenant, attr, value, id)
) WITHOUT ROWID;
CREATE INDEX entity_strings_entity ON entity_strings (tenant, id);

INSERT OR IGNORE INTO entity_strings (tenant, attr, value, id)
    SELECT e.tenant, a.key, s.atom, e.id
    FROM entities e, json_each(e.doc) a,
         json_each(CASE WHEN a.type = 'array' THEN a.value ELSE '[]' END) i,
         json_tree(CASE WHEN i.type = 'object' THEN i.value ELSE '{}' END,
             CASE json_extract(CASE WHEN i.type = 'object' THEN i.value ELSE '{}' END, '$.type')
                 WHEN 'Relationship' THEN '$.object'
                 WHEN 'LanguageProperty' THEN '$.languageMap'
                 WHEN 'VocabProperty' THEN '$.vocab'
                 WHEN 'JsonProperty' THEN '$.json'
                 WHEN 'ListProperty' THEN '$.valueList'
                 WHEN 'ListRelationship' THEN '$.objectList'
                 ELSE '$.value' END) s
    WHERE s.type = 'text' AND length(s.atom) <= 256;
