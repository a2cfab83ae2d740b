-- Strings held by each top-level attribute, for q string equality to start from an index
-- (see the SQLite migration 004_entity_strings for what is indexed and why it is only a
-- prefilter). Kept by statement-level triggers.

CREATE TABLE entity_strings (
    tenant TEXT NOT NULL,
    attr TEXT NOT NULL,
    value TEXT NOT NULL,
    id TEXT NOT NULL,
    PRIMARY KEY (tenant, attr, value, id)
);
CREATE INDEX entity_strings_entity ON entity_strings (tenant, id);

-- Every string in the member an instance's type names (cityhub_q_root), at any depth.
CREATE FUNCTION cityhub_entity_strings(doc jsonb) RETURNS TABLE (attr text, value text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT DISTINCT a.key, s #>> '{}'
    FROM jsonb_each(doc) a, cityhub_elements(a.value) i,
         jsonb_path_query(cityhub_q_root(i), 'lax $.**') s
    WHERE jsonb_typeof(s) = 'string' AND length(s #>> '{}') <= 256
$$;

CREATE FUNCTION cityhub_strings_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO entity_strings (tenant, attr, value, id)
        SELECT n.tenant, s.attr, s.value, n.id FROM new_rows n, cityhub_entity_strings(n.doc) s
        ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

CREATE FUNCTION cityhub_strings_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM entity_strings t USING new_rows n WHERE t.tenant = n.tenant AND t.id = n.id;
    INSERT INTO entity_strings (tenant, attr, value, id)
        SELECT n.tenant, s.attr, s.value, n.id FROM new_rows n, cityhub_entity_strings(n.doc) s
        ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

CREATE FUNCTION cityhub_strings_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM entity_strings t USING old_rows o WHERE t.tenant = o.tenant AND t.id = o.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER entities_strings_inserted AFTER INSERT ON entities
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION cityhub_strings_inserted();
CREATE TRIGGER entities_strings_updated AFTER UPDATE ON entities
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION cityhub_strings_updated();
CREATE TRIGGER entities_strings_deleted AFTER DELETE ON entities
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION cityhub_strings_deleted();

INSERT INTO entity_strings (tenant, attr, value, id)
    SELECT e.tenant, s.attr, s.value, e.id FROM entities e, cityhub_entity_strings(e.doc) s
    ON CONFLICT DO NOTHING;
