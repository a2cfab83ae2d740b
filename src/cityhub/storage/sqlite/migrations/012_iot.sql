-- IoT device provisioning (ingest/): service groups, each with an API key that device
-- topics name (so a key is unique across tenants), and devices with their attribute
-- mappings; plus the dead letters of every ingestion path (what could not be stored, why,
-- and the raw input).
CREATE TABLE iot_services (
    apikey TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    doc TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX iot_services_tenant ON iot_services (tenant, apikey);

CREATE TABLE iot_devices (
    apikey TEXT NOT NULL REFERENCES iot_services (apikey) ON DELETE CASCADE,
    device_id TEXT NOT NULL,
    tenant TEXT NOT NULL,
    doc TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (apikey, device_id),
    UNIQUE (tenant, device_id)
);

CREATE TABLE dead_letters (
    id INTEGER PRIMARY KEY,
    tenant TEXT NOT NULL,
    source TEXT NOT NULL,
    reason TEXT NOT NULL,
    raw TEXT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE INDEX dead_letters_tenant ON dead_letters (tenant, id);
