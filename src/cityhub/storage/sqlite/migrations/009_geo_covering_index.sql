-- The cell index also carries each geometry's bounding box and entity id, so the prefilter
-- of a geo-query (cell ranges, then the box test) reads the index alone: with the box in the
-- table instead, each of a 1 km near-query's ~5,700 cell candidates cost a table-row lookup
-- (1.6 ms for the cell scan, 19.6 ms with the box test, at 100k entities).
DROP INDEX entity_geo_cell;
CREATE INDEX entity_geo_cell ON entity_geo (tenant, attr, cell, minx, maxx, miny, maxy, entity_id);
