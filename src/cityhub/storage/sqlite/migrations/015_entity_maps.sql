-- EntityMaps (GS CIM 009 v1.8 clause 5.14): the entities of a query and the context sources
-- holding each, kept so that paging through a federated answer stays consistent. Members
-- are in id order in the JSON text (a page is a slice of it).
CREATE TABLE entity_maps (
    tenant TEXT NOT NULL,
    id TEXT NOT NULL,
    expires_at REAL NOT NULL,   -- seconds since the epoch
    doc TEXT NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX entity_maps_expiry ON entity_maps (expires_at);
