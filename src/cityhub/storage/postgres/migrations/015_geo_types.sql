-- Each GeoProperty row carries its entity's types, so a geo-query for a type (clause 4.17
-- type selection with a geoQ, 4.10) drops the spatial index's candidates of other types
-- while it reads them, instead of fetching every candidate entity to look at its types: for
-- "car parks within 1.5 km of Shinjuku station" three quarters of the box's candidates are
-- road segments, air-quality stations and alerts. The update trigger already rewrites an
-- entity's rows whenever the entity changes, so the copy stays in step with entities.types.
ALTER TABLE entity_geo ADD COLUMN types TEXT[];
UPDATE entity_geo g SET types = e.types FROM entities e
    WHERE e.tenant = g.tenant AND e.id = g.entity_id;
ALTER TABLE entity_geo ALTER COLUMN types SET NOT NULL;

CREATE OR REPLACE FUNCTION cityhub_geo_rows_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO entity_geo (tenant, entity_id, attr, geom, types)
        SELECT n.tenant, n.id, a.key,
               ST_Force2D(ST_SetSRID(ST_GeomFromGeoJSON(i -> 'value'), 4326)), n.types
        FROM new_rows n, jsonb_each(n.doc) a, cityhub_elements(a.value) i
        WHERE i ->> 'type' = 'GeoProperty';
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION cityhub_geo_rows_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM entity_geo g USING new_rows n WHERE g.tenant = n.tenant AND g.entity_id = n.id;
    INSERT INTO entity_geo (tenant, entity_id, attr, geom, types)
        SELECT n.tenant, n.id, a.key,
               ST_Force2D(ST_SetSRID(ST_GeomFromGeoJSON(i -> 'value'), 4326)), n.types
        FROM new_rows n, jsonb_each(n.doc) a, cityhub_elements(a.value) i
        WHERE i ->> 'type' = 'GeoProperty';
    RETURN NULL;
END
$$;
