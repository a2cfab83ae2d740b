-- Query support (clauses 4.9, 4.10, 4.17): an index table of entity types, and the geometry
-- of every GeoProperty instance in entity_geo with its bounding box in an R*Tree. Triggers
-- keep both in step with entities; cityhub_bbox is a function every connection of the hub
-- registers (storage/sqlite/functions.py).

CREATE TABLE entity_types (
    tenant TEXT NOT NULL,
    type TEXT NOT NULL,
    id TEXT NOT NULL,
    PRIMARY KEY (tenant, type, id)
) WITHOUT ROWID;

CREATE TABLE entity_geo (
    rowid INTEGER PRIMARY KEY,
    tenant TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    attr TEXT NOT NULL,
    geojson TEXT NOT NULL
);
CREATE INDEX entity_geo_entity ON entity_geo (tenant, entity_id);
CREATE VIRTUAL TABLE entity_geo_rtree USING rtree (id, minx, maxx, miny, maxy);

CREATE TRIGGER entity_geo_boxed AFTER INSERT ON entity_geo BEGIN
    INSERT INTO entity_geo_rtree VALUES (
        new.rowid,
        cityhub_bbox(new.geojson, 0), cityhub_bbox(new.geojson, 2),
        cityhub_bbox(new.geojson, 1), cityhub_bbox(new.geojson, 3));
END;
CREATE TRIGGER entity_geo_unboxed AFTER DELETE ON entity_geo BEGIN
    DELETE FROM entity_geo_rtree WHERE id = old.rowid;
END;

CREATE TRIGGER entities_indexed AFTER INSERT ON entities BEGIN
    INSERT INTO entity_types (tenant, type, id)
        SELECT new.tenant, t.value, new.id FROM json_each(new.types) t;
    INSERT INTO entity_geo (tenant, entity_id, attr, geojson)
        SELECT new.tenant, new.id, a.key, json_extract(i.value, '$.value')
        FROM json_each(new.doc) a,
             json_each(CASE WHEN a.type = 'array' THEN a.value ELSE '[]' END) i
        WHERE i.type = 'object' AND json_extract(i.value, '$.type') = 'GeoProperty';
END;

CREATE TRIGGER entities_reindexed AFTER UPDATE ON entities BEGIN
    DELETE FROM entity_types WHERE tenant = old.tenant AND id = old.id;
    INSERT INTO entity_types (tenant, type, id)
        SELECT new.tenant, t.value, new.id FROM json_each(new.types) t;
    DELETE FROM entity_geo WHERE tenant = old.tenant AND entity_id = old.id;
    INSERT INTO entity_geo (tenant, entity_id, attr, geojson)
        SELECT new.tenant, new.id, a.key, json_extract(i.value, '$.value')
        FROM json_each(new.doc) a,
             json_each(CASE WHEN a.type = 'array' THEN a.value ELSE '[]' END) i
        WHERE i.type = 'object' AND json_extract(i.value, '$.type') = 'GeoProperty';
END;

CREATE TRIGGER entities_unindexed AFTER DELETE ON entities BEGIN
    DELETE FROM entity_types WHERE tenant = old.tenant AND id = old.id;
    DELETE FROM entity_geo WHERE tenant = old.tenant AND entity_id = old.id;
END;

INSERT INTO entity_types (tenant, type, id)
    SELECT e.tenant, t.value, e.id FROM entities e, json_each(e.types) t;
INSERT INTO entity_geo (tenant, entity_id, attr, geojson)
    SELECT e.tenant, e.id, a.key, json_extract(i.value, '$.value')
    FROM entities e, json_each(e.doc) a,
         json_each(CASE WHEN a.type = 'array' THEN a.value ELSE '[]' END) i
    WHERE i.type = 'object' AND json_extract(i.value, '$.type') = 'GeoProperty';
