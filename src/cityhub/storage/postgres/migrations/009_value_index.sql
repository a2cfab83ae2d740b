-- The attribute value index (storage/sql/value_index.py) on PostgreSQL: each entity row
-- carries the hashes of its attributes' strings, under a GIN index (whose pending list
-- absorbs a write's ~10 keys at the end of one page, merged in bulk later), and its numbers
-- per attribute key as a small jsonb object, which a numeric q comparison reads instead of
-- de-TOASTing and walking the whole document. Both are written by the store with the row;
-- the store fills them for rows stored before this migration (PostgresStore.migrate).
ALTER TABLE entities ADD COLUMN value_strings bigint[], ADD COLUMN value_numbers jsonb;
CREATE INDEX entities_value_strings ON entities USING gin (value_strings);
