-- entity_strings (migration 004) made every entity write ~0.8 ms dearer (SQLite's trigger
-- inserts ~15 index rows per entity); string equality scans documents again until the index
-- is kept by the store's own write statements at a price writes can afford.

DROP TRIGGER entities_strings_indexed;
DROP TRIGGER entities_strings_reindexed;
DROP TRIGGER entities_strings_unindexed;
DROP TABLE entity_strings;
