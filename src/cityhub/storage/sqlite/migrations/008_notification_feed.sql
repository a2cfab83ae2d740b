-- Notifications of subscriptions whose endpoint is the hub's own live feed (urn:cityhub:sse):
-- the dispatcher appends them here and GET /subscriptions/{id}/stream streams them to
-- browsers as server-sent events, resuming from Last-Event-ID. Rows older than the feed
-- retention are dropped as new ones arrive.
CREATE TABLE notification_feed (
    id INTEGER PRIMARY KEY,
    tenant TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL  -- seconds since the epoch
);
CREATE INDEX notification_feed_subscription ON notification_feed (tenant, subscription_id, id);
