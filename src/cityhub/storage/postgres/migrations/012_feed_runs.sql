-- Scheduled open-data feeds (ingest/feeds): which worker runs a feed next (a lease, so N
-- workers run each feed once per interval) and the report of its last run.
CREATE TABLE feed_runs (
    feed TEXT PRIMARY KEY,
    lease_until DOUBLE PRECISION NOT NULL,
    report TEXT
);
