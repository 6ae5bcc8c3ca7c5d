--
-- Fleets: one call over many tenant schemas.  Each schema's files run
-- with search_path set to it, its history is in the schema itself, and
-- the caller's search_path stays as it was.  migrate_apply is all or
-- nothing over the fleet; migrate_run commits as it goes, goes on past a
-- failing schema and ends with one error naming it.
--
CREATE EXTENSION morgenmigrate;
CREATE SCHEMA fleet_a;
CREATE SCHEMA fleet_b;
CREATE SCHEMA fleet_c;
SET search_path = public;
\set dir '@fixtures@/fleet'

-- every file is pending in every tenant, in the order of the names
SELECT schema, filename, state
  FROM morgenmigrate.migrate_status(:'dir', schemas => '{fleet_b,fleet_a}');

-- applied in each, once each however often named, with its own search_path
SELECT schema, filename, status
  FROM morgenmigrate.migrate_apply(:'dir', schemas => '{fleet_b,fleet_a,fleet_b}', target => '2');
SELECT * FROM fleet_a.accounts;
SELECT * FROM fleet_b.accounts;
SHOW search_path;
-- each tenant's history is in its schema; the database's is untouched
SELECT filename, kind, applied_by = current_user AS by_caller
  FROM fleet_a.morgenmigrate_history ORDER BY filename;
SELECT count(*) AS database_history FROM morgenmigrate.schema_migrations;
-- the locks: the database's in share mode, each tenant's exclusive
-- (pg_advisory_lock(1836020327, the schema's OID))
BEGIN;
SELECT schema, filename FROM morgenmigrate.migrate_apply(:'dir', schemas => '{fleet_a,fleet_b}', target => '2');
SELECT mode, classid, CASE objid WHEN 'fleet_a'::regnamespace::oid THEN 'fleet_a'
                                 WHEN 'fleet_b'::regnamespace::oid THEN 'fleet_b'
                                 ELSE objid::text END AS objid, objsubid
  FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()
 ORDER BY objsubid, objid;
COMMIT;

-- all or nothing over the fleet: fleet_c fails at 003, so fleet_a and
-- fleet_b lose what this call applied, and fleet_c keeps nothing either
CREATE TABLE fleet_c.audit (id int);
SELECT schema, filename, status
  FROM morgenmigrate.migrate_apply(:'dir', schemas => '{fleet_a,fleet_b,fleet_c}', target => '3');
SELECT (SELECT count(*) FROM fleet_a.morgenmigrate_history) AS a_history,
       to_regclass('fleet_a.audit') IS NULL AS a_no_audit,
       to_regclass('fleet_c.accounts') IS NULL AS c_no_accounts,
       to_regclass('fleet_c.morgenmigrate_history') IS NULL AS c_no_history;
SHOW search_path;
-- with atomic => false each tenant stops at its failing file, the others
-- go on, and the failure is recorded in the tenant's own history
SELECT schema, filename, status
  FROM morgenmigrate.migrate_apply(:'dir', schemas => '{fleet_a,fleet_c}', target => '3', atomic => false);
SELECT filename, sqlstate, message FROM fleet_c.morgenmigrate_errors;
SELECT schema, filename, status
  FROM morgenmigrate.migrate_apply(:'dir', schemas => '{fleet_a,fleet_c}', target => '2', dry_run => true);

-- which tenants are behind, and on which file
SELECT schema, min(filename) AS first_not_applied
  FROM morgenmigrate.migrate_status(:'dir', schemas => '{fleet_a,fleet_b,fleet_c}')
 WHERE state <> 'applied' GROUP BY schema ORDER BY schema;
SELECT morgenmigrate.migrate_check(:'dir', schemas => '{fleet_a,fleet_b,fleet_c}');
-- what each tenant's pending statements would cost, the names read in that
-- tenant (its own accounts), without a lock and with the caller's
-- search_path left as it was
SELECT schema, filename, line, command, relation, lock_mode, effect
  FROM morgenmigrate.migrate_plan(:'dir', schemas => '{fleet_c,fleet_a}');
SELECT schema, filename
  FROM morgenmigrate.migrate_plan(:'dir', schemas => '{fleet_c}', steps => 1);
SHOW search_path;
SELECT count(*) AS advisory_locks FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid();
\set VERBOSITY terse
SELECT * FROM morgenmigrate.migrate_plan(:'dir', schemas => '{fleet_a,fleet_nosuch}');
\set VERBOSITY default
-- morgenmigrate.max_locked_bytes weighs each tenant's own tables (the
-- caller's search_path has no accounts): a file that would rewrite the
-- tenant's accounts is refused before anything runs, in both calls (the
-- size, which differs between server versions, masked)
SET morgenmigrate.max_locked_bytes = '8kB';
\set VERBOSITY sqlstate
SELECT * FROM morgenmigrate.migrate_apply('@fixtures@/fleet_rewrite', schemas => '{fleet_a}');
SELECT regexp_replace(:'LAST_ERROR_MESSAGE', '[0-9]+ kB', '(size)', 'g') AS apply_refused;
CALL morgenmigrate.migrate_run('@fixtures@/fleet_rewrite', schemas => '{fleet_a}');
SELECT regexp_replace(:'LAST_ERROR_MESSAGE', '[0-9]+ kB', '(size)', 'g') AS run_refused;
\set VERBOSITY default
RESET morgenmigrate.max_locked_bytes;
SELECT format_type(atttypid, atttypmod) AS id_type,
       (SELECT count(*) FROM fleet_a.morgenmigrate_history
         WHERE filename = '001_widen_id.sql') AS recorded
  FROM pg_attribute WHERE attrelid = 'fleet_a.accounts'::regclass AND attname = 'id';
DELETE FROM fleet_a.morgenmigrate_errors WHERE filename = '001_widen_id.sql';

-- migrate_run commits as it goes: fleet_a and fleet_b are done (their
-- index built concurrently by the worker, in their own schema), fleet_c
-- stops at 003 with its failure recorded, and one error names it
CALL morgenmigrate.migrate_run(:'dir', schemas => '{fleet_c,fleet_b,fleet_a}');
SELECT schema, filename, state, error
  FROM morgenmigrate.migrate_status(:'dir', schemas => '{fleet_a,fleet_b,fleet_c}');
SELECT indexrelid::regclass AS index, indisvalid FROM pg_index
 WHERE indexrelid::regclass::text LIKE 'fleet_%.accounts_name' ORDER BY indexrelid::regclass::text;
SHOW search_path;
SELECT count(*) AS advisory_locks FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid();
-- once fleet_c is fixed, it catches up
DROP TABLE fleet_c.audit;
CALL morgenmigrate.migrate_run(:'dir', schemas => '{fleet_a,fleet_b,fleet_c}');
SELECT morgenmigrate.migrate_check(:'dir', schemas => '{fleet_a,fleet_b,fleet_c}');
SELECT count(*) AS c_failures FROM fleet_c.morgenmigrate_errors;

-- a tenant dropped and made again starts with no history
DROP SCHEMA fleet_b CASCADE;
CREATE SCHEMA fleet_b;
SELECT schema, filename, state FROM morgenmigrate.migrate_status(:'dir', schemas => '{fleet_b}');

-- bad schemas refuse the call before anything runs
\set VERBOSITY terse
SELECT * FROM morgenmigrate.migrate_apply(:'dir', schemas => '{fleet_b,fleet_nosuch}');
SELECT * FROM morgenmigrate.migrate_apply(:'dir', schemas => '{fleet_b,NULL}');
SELECT * FROM morgenmigrate.migrate_apply(:'dir', schemas => NULL);
SELECT * FROM morgenmigrate.migrate_apply(:'dir', schemas => '{fleet_b,pg_catalog}');
SELECT * FROM morgenmigrate.migrate_apply(:'dir', schemas => '{information_schema}');
SELECT * FROM morgenmigrate.migrate_apply(:'dir', schemas => '{morgenmigrate}');
CALL morgenmigrate.migrate_run(:'dir', schemas => '{fleet_b,fleet_nosuch}');
\set VERBOSITY default
SELECT to_regclass('fleet_b.accounts') IS NULL AS nothing_ran,
       to_regclass('fleet_b.morgenmigrate_history') IS NULL AS no_history,
       to_regclass('fleet_b.morgenmigrate_errors') IS NULL AS no_failures;
-- an empty set of schemas: no rows and nothing done, as a query over no
-- rows, but a NOTICE says so (a deploy whose query found no tenants)
SELECT * FROM morgenmigrate.migrate_apply(:'dir', schemas => '{}');
SELECT * FROM morgenmigrate.migrate_status(:'dir', schemas => '{}');
SELECT * FROM morgenmigrate.migrate_plan(:'dir', schemas => '{}');
SELECT morgenmigrate.migrate_check(:'dir', schemas => '{}');
CALL morgenmigrate.migrate_run(:'dir', schemas => '{}');
SELECT to_regclass('fleet_b.accounts') IS NULL AS nothing_ran,
       to_regclass('fleet_b.morgenmigrate_history') IS NULL AS no_history,
       (SELECT count(*) FROM morgenmigrate.schema_migrations) AS database_history;

-- pushed files, to a fleet
CREATE TEMPORARY TABLE pushed (path text, content bytea);
INSERT INTO pushed
SELECT f, pg_read_binary_file(:'dir' || '/' || f) FROM pg_ls_dir(:'dir') f;
SELECT schema, filename, status
  FROM morgenmigrate.migrate_apply(files => 'pushed', schemas => '{fleet_b}', target => '3');
SELECT schema, filename, state
  FROM morgenmigrate.migrate_status(files => 'pushed', schemas => '{fleet_a,fleet_b}');
CALL morgenmigrate.migrate_run(files => 'pushed', schemas => '{fleet_b}');
SELECT morgenmigrate.migrate_check(files => 'pushed', schemas => '{fleet_a,fleet_b}');
-- the plan of pushed files: in the database's history nothing is applied,
-- and public has no accounts yet, so the set's own table is new
SELECT filename, line, command, relation, effect
  FROM morgenmigrate.migrate_plan(files => 'pushed');
-- by position, with NULLs, the push form without schemas is the one chosen
SELECT count(*) AS planned FROM morgenmigrate.migrate_plan('pushed'::regclass, NULL, NULL);
SELECT count(*) AS rehearsed
  FROM morgenmigrate.migrate_apply('pushed'::regclass, NULL, NULL, true);

-- the tables of a tenant's history are morgenmigrate's own DDL, not drift
SELECT morgenmigrate.drift_enable();
CREATE SCHEMA fleet_d;
SELECT schema, filename, status
  FROM morgenmigrate.migrate_apply(:'dir', schemas => '{fleet_d}', target => '1');
SELECT object_identity FROM morgenmigrate.drift ORDER BY id;
-- a change by hand is the database's drift: a fleet's status shows it once,
-- with no schema, however many tenants it reads
CREATE TABLE fleet_d.by_hand (id int);
SELECT schema, filename, state
  FROM morgenmigrate.migrate_status(:'dir', schemas => '{fleet_a,fleet_b,fleet_d}')
 WHERE state = 'drift';
-- an empty set of schemas reads no tenant, so it shows no rows, not even
-- the database's drift (recorded and not acknowledged here), and does nothing
SELECT * FROM morgenmigrate.migrate_status(:'dir', schemas => '{}');
SELECT * FROM morgenmigrate.migrate_plan(:'dir', schemas => '{}');
SELECT morgenmigrate.migrate_check(:'dir', schemas => '{}');
SELECT * FROM morgenmigrate.migrate_apply(:'dir', schemas => '{}');
CALL morgenmigrate.migrate_run(:'dir', schemas => '{}');
SELECT (SELECT count(*) FROM fleet_d.morgenmigrate_history) AS d_history,
       (SELECT count(*) FROM morgenmigrate.drift WHERE acknowledged_at IS NULL) AS drift_open;
SELECT morgenmigrate.drift_acknowledge('made by the test') AS acknowledged;
SELECT morgenmigrate.drift_disable();

-- a tenant's history tables are made with PostgreSQL's own types, whatever
-- the caller's search_path puts before pg_catalog
CREATE SCHEMA fleet_evil;
CREATE DOMAIN fleet_evil.text AS integer;
CREATE DOMAIN fleet_evil.timestamptz AS integer;
CREATE SCHEMA fleet_h;
SET search_path = fleet_evil, pg_catalog;
SELECT schema, filename, status
  FROM morgenmigrate.migrate_apply('@fixtures@/fleet', schemas => '{fleet_h}', target => '1');
RESET search_path;
SELECT attrelid::regclass AS history_table, attname, format_type(atttypid, atttypmod)
  FROM pg_attribute
 WHERE attrelid IN ('fleet_h.morgenmigrate_history'::regclass, 'fleet_h.morgenmigrate_errors'::regclass)
   AND attname IN ('filename', 'applied_at', 'failed_at', 'kind')
 ORDER BY 1, 2;

SET client_min_messages = warning;
DROP SCHEMA fleet_a, fleet_b, fleet_c, fleet_d, fleet_evil, fleet_h CASCADE;
DROP EXTENSION morgenmigrate;
