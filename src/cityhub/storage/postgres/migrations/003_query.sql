-- Query support (clauses 4.9, 4.10, 4.19): indexes on types and scopes, geometries of every
-- GeoProperty instance in entity_geo (kept by statement-level triggers, so batch writes pay
-- one INSERT … SELECT per statement), and the SQL functions the q compiler builds on
-- (storage/postgres/query_sql.py; semantics in query/ast.py).

CREATE INDEX entities_types ON entities USING gin (types);
CREATE INDEX entities_scopes ON entities USING gin (scopes);

-- The elements of a JSON array; nothing for any other JSON value.
CREATE FUNCTION cityhub_elements(j jsonb) RETURNS SETOF jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT jsonb_array_elements(CASE WHEN jsonb_typeof(j) = 'array' THEN j ELSE '[]'::jsonb END)
$$;

-- The member of an attribute instance that q compares, by the instance's type.
CREATE FUNCTION cityhub_q_root(inst jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE inst ->> 'type'
        WHEN 'Relationship' THEN inst -> 'object'
        WHEN 'LanguageProperty' THEN inst -> 'languageMap'
        WHEN 'VocabProperty' THEN inst -> 'vocab'
        WHEN 'JsonProperty' THEN inst -> 'json'
        WHEN 'ListProperty' THEN inst -> 'valueList'
        WHEN 'ListRelationship' THEN inst -> 'objectList'
        ELSE inst -> 'value' END
$$;

-- The scalar elements a comparison looks at: the value itself, the elements of an array, or
-- (for a languageMap) each language's value; arrays and objects among them are skipped.
CREATE FUNCTION cityhub_q_flat(root jsonb, language boolean) RETURNS SETOF jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT x FROM (
        SELECT root AS x
        UNION ALL
        SELECT a FROM jsonb_array_elements(
            CASE WHEN jsonb_typeof(root) = 'array' THEN root ELSE '[]'::jsonb END) a
        UNION ALL
        SELECT m.value FROM jsonb_each(
            CASE WHEN language AND jsonb_typeof(root) = 'object' THEN root ELSE '{}'::jsonb END) m
    ) s WHERE jsonb_typeof(x) NOT IN ('array', 'object')
$$;

-- Microseconds since the epoch of a date-time string, NULL for anything else; recognises
-- exactly what query/instants.py does (no offset means UTC).
CREATE FUNCTION cityhub_instant(t text) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    IF t IS NULL OR t !~ ('^\d{4}-[01]\d-[0-3]\dT([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?'
                          '(Z|[+-](0\d|1[0-5]):[0-5]\d)?$') THEN
        RETURN NULL;
    END IF;
    IF t !~ '(Z|[+-]\d\d:\d\d)$' THEN
        t := t || 'Z';
    END IF;
    RETURN (extract(epoch FROM t::timestamptz) * 1000000)::bigint;
EXCEPTION WHEN datetime_field_overflow OR invalid_datetime_format THEN
    RETURN NULL;  -- 2024-02-30 and the like, which the pattern lets through
END
$$;

CREATE TABLE entity_geo (
    tenant TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    attr TEXT NOT NULL,
    geom geometry(Geometry, 4326) NOT NULL,
    FOREIGN KEY (tenant, entity_id) REFERENCES entities (tenant, id) ON DELETE CASCADE
);
CREATE INDEX entity_geo_entity ON entity_geo (tenant, entity_id);
CREATE INDEX entity_geo_geom ON entity_geo USING gist (geom);
CREATE INDEX entity_geo_geog ON entity_geo USING gist ((geom::geography));

CREATE FUNCTION cityhub_geo_rows_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO entity_geo (tenant, entity_id, attr, geom)
        SELECT n.tenant, n.id, a.key, ST_Force2D(ST_SetSRID(ST_GeomFromGeoJSON(i -> 'value'), 4326))
        FROM new_rows n, jsonb_each(n.doc) a, cityhub_elements(a.value) i
        WHERE i ->> 'type' = 'GeoProperty';
    RETURN NULL;
END
$$;

CREATE FUNCTION cityhub_geo_rows_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM entity_geo g USING new_rows n WHERE g.tenant = n.tenant AND g.entity_id = n.id;
    INSERT INTO entity_geo (tenant, entity_id, attr, geom)
        SELECT n.tenant, n.id, a.key, ST_Force2D(ST_SetSRID(ST_GeomFromGeoJSON(i -> 'value'), 4326))
        FROM new_rows n, jsonb_each(n.doc) a, cityhub_elements(a.value) i
        WHERE i ->> 'type' = 'GeoProperty';
    RETURN NULL;
END
$$;

CREATE TRIGGER entities_geo_inserted AFTER INSERT ON entities
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION cityhub_geo_rows_inserted();
CREATE TRIGGER entities_geo_updated AFTER UPDATE ON entities
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION cityhub_geo_rows_updated();

INSERT INTO entity_geo (tenant, entity_id, attr, geom)
    SELECT e.tenant, e.id, a.key, ST_Force2D(ST_SetSRID(ST_GeomFromGeoJSON(i -> 'value'), 4326))
    FROM entities e, jsonb_each(e.doc) a, cityhub_elements(a.value) i
    WHERE i ->> 'type' = 'GeoProperty';
