--
-- migrate_run drops only the leftovers of the build about to run: never the
-- index a REINDEX repairs, nor another INVALID index of the table, nor a
-- partitioned table's ON ONLY index
--
CREATE EXTENSION morgenmigrate;
CREATE SCHEMA leftovers_test;
SET search_path = leftovers_test;
CREATE TABLE gadgets (id int, code text);
INSERT INTO gadgets VALUES (1, 'a'), (2, 'a'), (3, 'b'), (3, 'c');
-- two failed unique builds leave two INVALID indexes
CREATE UNIQUE INDEX CONCURRENTLY gadgets_code_key ON gadgets (code);
CREATE UNIQUE INDEX CONCURRENTLY gadgets_id_key ON gadgets (id);
DELETE FROM gadgets WHERE id = 2;
CREATE TABLE parts (id int) PARTITION BY RANGE (id);
CREATE TABLE parts_1 PARTITION OF parts FOR VALUES FROM (0) TO (100);
CREATE INDEX parts_id_idx ON ONLY parts (id);
-- what psql does with the third file
REINDEX TABLE CONCURRENTLY parts;
SELECT indexrelid::regclass AS index, indisvalid
  FROM pg_index WHERE indrelid IN ('gadgets'::regclass, 'parts'::regclass) ORDER BY 1;

-- REINDEX INDEX CONCURRENTLY of the INVALID index repairs it
CALL morgenmigrate.migrate_run('@fixtures@/leftovers/repair');
SELECT filename FROM morgenmigrate.schema_migrations;
TRUNCATE morgenmigrate.schema_migrations;
-- a build of another index leaves the other INVALID index alone
CALL morgenmigrate.migrate_run('@fixtures@/leftovers/other');
SELECT filename FROM morgenmigrate.schema_migrations;
TRUNCATE morgenmigrate.schema_migrations;
-- a reindex of the partitioned table leaves its ON ONLY index alone
CALL morgenmigrate.migrate_run('@fixtures@/leftovers/partitioned');
SELECT filename FROM morgenmigrate.schema_migrations;
SELECT count(*) AS failures FROM morgenmigrate.migration_errors;
SELECT indexrelid::regclass AS index, indisvalid
  FROM pg_index WHERE indrelid IN ('gadgets'::regclass, 'parts'::regclass) ORDER BY 1;

SET client_min_messages = warning;
DROP SCHEMA leftovers_test CASCADE;
DROP EXTENSION morgenmigrate;
