-- EntityMaps (GS CIM 009 v1.8 clause 5.14): the entities of a query and the context sources
-- holding each, kept so that paging through a federated answer stays consistent. Members
-- are in id order in the JSON text (text, not jsonb: jsonb would reorder them).
CREATE TABLE entity_maps (
    tenant TEXT NOT NULL,
    id TEXT NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL,   -- seconds since the epoch
    doc TEXT NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX entity_maps_expiry ON entity_maps (expires_at);
