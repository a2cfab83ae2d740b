-- Each entity's document also as JSON text, computed by PostgreSQL whenever doc changes.
-- Pages of Query Entities (clause 5.7.2) and Retrieve Entity (5.7.1) send the documents out
-- as text, and turning jsonb back into text (jsonb_out: every key escaped, every number
-- printed again) cost ~8 µs per city entity on every read: for a 100-entity page about a
-- millisecond, a sixth of a geo-query's whole time. A write now pays it once instead, and
-- the jsonb column stays what q, geo and attribute filters run on. The text is the same
-- jsonb_out text as before, so nothing a client sees changes. lz4 where the build has it.
DO $$
BEGIN
    ALTER TABLE entities ADD COLUMN doc_text TEXT COMPRESSION lz4
        GENERATED ALWAYS AS (doc::text) STORED;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'lz4 is not available: entity texts are pglz-compressed';
    ALTER TABLE entities ADD COLUMN doc_text TEXT GENERATED ALWAYS AS (doc::text) STORED;
END
$$;
