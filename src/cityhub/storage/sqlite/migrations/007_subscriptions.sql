-- Subscriptions (clause 5.8) in the stored form of model/subscriptions.py, and what their
-- deliveries recorded (clause 5.2.14 status members), updated apart from the document.
CREATE TABLE subscriptions (
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
    next_due DOUBLE PRECISION,  -- periodic (timeInterval) subscriptions: next notification, epoch s
    PRIMARY KEY (tenant, id)
);
CREATE INDEX subscriptions_created ON subscriptions (tenant, created_at, id);

-- Bumped with every change to a tenant's subscriptions, in the same transaction: a worker
-- reads it inside each write transaction and reloads its compiled subscriptions when it moved,
-- so no worker matches changes against a stale set (issue: N workers, one truth).
CREATE TABLE subscription_versions (
    tenant TEXT PRIMARY KEY,
    version BIGINT NOT NULL
);

-- Notifications to deliver (DESIGN rule 5): written in the transaction of the change that
-- caused them, deleted once delivered. A worker claims rows by setting claimed_until (a
-- lease: if it dies, the rows come back when the lease ends); a failed delivery moves
-- next_attempt_at back by an exponential backoff.
CREATE TABLE notification_outbox (
    id INTEGER PRIMARY KEY,
    tenant TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    trigger TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    payload TEXT NOT NULL,      -- {"after": entity, "before": entity} as the change left them
    created_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at DOUBLE PRECISION NOT NULL,  -- seconds since the epoch
    claimed_until DOUBLE PRECISION             -- seconds since the epoch; NULL when free
);
CREATE INDEX notification_outbox_due ON notification_outbox (next_attempt_at, id);
CREATE INDEX notification_outbox_subscription ON notification_outbox (tenant, subscription_id, id);
