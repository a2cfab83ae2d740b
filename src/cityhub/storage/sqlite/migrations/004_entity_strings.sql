-- Strings held by each top-level attribute (values, relationship objects, languageMap texts,
-- vocab, list elements and strings nested in structured values), so that q equality on a
-- string (name=="Gangnam Station", refParkingSite==urn:…) starts from an index instead of
-- reading every document. A prefilter only: the exact q check still runs on each candidate,
-- so the table may hold more than q would match, never less. Strings over 256 characters are
-- left out (the compiler does not prefilter on such literals).

CREATE TABLE entity_strings (
    tenant TEXT NOT NULL,
    attr TEXT NOT NULL,
    value TEXT NOT NULL,
    id TEXT NOT NULL,
    PRIMARY KEY (tenant, attr, value, id)
) WITHOUT ROWID;
CREATE INDEX entity_strings_entity ON entity_strings (tenant, id);

CREATE TRIGGER entities_strings_indexed AFTER INSERT ON entities BEGIN
    INSERT OR IGNORE INTO entity_strings (tenant, attr, value, id)
        SELECT new.tenant, a.key, s.atom, new.id
        FROM json_each(new.doc) a,
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
END;

CREATE TRIGGER entities_strings_reindexed AFTER UPDATE OF doc ON entities BEGIN
    DELETE FROM entity_strings WHERE tenant = old.tenant AND id = old.id;
    INSERT OR IGNORE INTO entity_strings (tenant, attr, value, id)
        SELECT new.tenant, a.key, s.atom, new.id
        FROM json_each(new.doc) a,
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
END;

CREATE TRIGGER entities_strings_unindexed AFTER DELETE ON entities BEGIN
    DELETE FROM entity_strings WHERE tenant = old.tenant AND id = old.id;
END;

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
