-- Entity documents in the hub's expanded form pass 2 kB, where PostgreSQL compresses them.
-- lz4 does that at a fraction of pglz's CPU on every write and read; builds without lz4 keep
-- pglz (the column behaves the same either way).
DO $$
BEGIN
    ALTER TABLE entities ALTER COLUMN doc SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'lz4 is not available: entity documents stay pglz-compressed';
END
$$;
