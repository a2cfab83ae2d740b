-- Context Source Registrations (clause 5.9) in the stored form of model/registrations.py, with
-- what distributed operations through each recorded (clause 5.2.9 status members).
CREATE TABLE csource_registrations (
    tenant TEXT NOT NULL,
    id TEXT NOT NULL,
    doc TEXT NOT NULL,
    created_at TEXT NOT NULL,
    modified_at TEXT NOT NULL,
    times_sent INTEGER NOT NULL DEFAULT 0,
    times_failed INTEGER NOT NULL DEFAULT 0,
    last_success TEXT,
    last_failure TEXT,
    last_status TEXT,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX csource_registrations_created ON csource_registrations (tenant, created_at, id);

-- Context Source Registration Subscriptions (clause 5.11): apart from the entity
-- subscriptions, whose matching, periodic claims and delivery bookkeeping read that table.
CREATE TABLE csource_subscriptions (
    tenant TEXT NOT NULL,
    id TEXT NOT NULL,
    doc TEXT NOT NULL,
    created_at TEXT NOT NULL,
    modified_at TEXT NOT NULL,
    times_sent INTEGER NOT NULL DEFAULT 0,
    times_failed INTEGER NOT NULL DEFAULT 0,
    last_notification TEXT,
    last_success TEXT,
    last_failure TEXT,
    last_status TEXT,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX csource_subscriptions_created ON csource_subscriptions (tenant, created_at, id);

-- Moved by every write of a tenant's registrations and registration subscriptions, in its
-- transaction: a write computed against another version is refused and computed again, so
-- the notifications it queues always match what it commits.
CREATE TABLE csource_versions (
    tenant TEXT PRIMARY KEY,
    version INTEGER NOT NULL
);

-- CsourceNotifications to deliver, written in the transaction of the registration change (or
-- the subscription's creation) that caused them; leased like notification_outbox rows.
CREATE TABLE csource_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: notification ids derive from it
    tenant TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    payload TEXT NOT NULL,      -- {"triggerReason", "registrations": [{"doc", "createdAt", …}]}
    created_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at DOUBLE PRECISION NOT NULL,  -- seconds since the epoch
    claimed_until DOUBLE PRECISION             -- seconds since the epoch; NULL when free
);
CREATE INDEX csource_outbox_subscription ON csource_outbox (tenant, subscription_id, id);

-- The hub's own identity (clause 5.15, /info/sourceIdentity): one row, so every worker and
-- every restart answers with the same id.
CREATE TABLE hub_identity (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    id TEXT NOT NULL,
    created_at TEXT NOT NULL
);
