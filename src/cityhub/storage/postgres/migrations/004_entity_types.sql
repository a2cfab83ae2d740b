-- One row per (tenant, type, entity): a query for one type walks this primary key in entity
-- id order and stops at the page's end, where a GIN scan of entities.types has to find and
-- sort every entity of the type first (and a walk of entities' primary key filters out all
-- the other types on the way). Kept by statement-level triggers, like entity_geo.

CREATE TABLE entity_types (
    tenant TEXT NOT NULL,
    type TEXT NOT NULL,
    id TEXT NOT NULL,
    PRIMARY KEY (tenant, type, id)
);
CREATE INDEX entity_types_entity ON entity_types (tenant, id);

CREATE FUNCTION cityhub_types_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO entity_types (tenant, type, id)
        SELECT n.tenant, t.type, n.id FROM new_rows n, unnest(n.types) AS t(type);
    RETURN NULL;
END
$$;

CREATE FUNCTION cityhub_types_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM entity_types t USING new_rows n, old_rows o
        WHERE o.tenant = n.tenant AND o.id = n.id AND o.types IS DISTINCT FROM n.types
          AND t.tenant = n.tenant AND t.id = n.id;
    INSERT INTO entity_types (tenant, type, id)
        SELECT n.tenant, t.type, n.id
        FROM new_rows n JOIN old_rows o ON o.tenant = n.tenant AND o.id = n.id,
             unnest(n.types) AS t(type)
        WHERE o.types IS DISTINCT FROM n.types;
    RETURN NULL;
END
$$;

CREATE FUNCTION cityhub_types_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM entity_types t USING old_rows o WHERE t.tenant = o.tenant AND t.id = o.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER entities_types_inserted AFTER INSERT ON entities
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION cityhub_types_inserted();
CREATE TRIGGER entities_types_updated AFTER UPDATE ON entities
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION cityhub_types_updated();
CREATE TRIGGER entities_types_deleted AFTER DELETE ON entities
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION cityhub_types_deleted();

INSERT INTO entity_types (tenant, type, id)
    SELECT e.tenant, t.type, e.id FROM entities e, unnest(e.types) AS t(type);
