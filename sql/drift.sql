--
-- Drift: DDL run outside the migrations is recorded by event triggers,
-- shown by migrate_status(dir) and refused by migrate_check(dir) until
-- acknowledged; what morgenmigrate runs itself is never drift
--
CREATE EXTENSION morgenmigrate;
CREATE SCHEMA drift_test;
SET search_path = drift_test;
\set dir '@fixtures@/drift'
\set after '@fixtures@/drift_after'
\set run '@fixtures@/drift_run'

-- what was recorded, without what changes from run to run
CREATE VIEW recorded AS
    SELECT command_tag, object_type, object_identity,
           user_name = current_user AS by_me,
           session_user_name = session_user AS my_session,
           application_name, client_addr, statement,
           acknowledged_at IS NOT NULL AS acknowledged,
           acknowledged_by = current_user AS acknowledged_by_me, note
    FROM morgenmigrate.drift ORDER BY id;
-- an error's fields, with the times and the superuser's name masked
CREATE FUNCTION error_of(query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    state text; msg text; det text; hnt text;
BEGIN
    EXECUTE query;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
        det = PG_EXCEPTION_DETAIL, hnt = PG_EXCEPTION_HINT;
    RETURN concat_ws(E'\n', state || ': ' || msg,
        'DETAIL: ' || replace(regexp_replace(det,
            '\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?[+-]\d\d', '<time>', 'g'),
            ' by ' || session_user || ' ', ' by <superuser> '),
        'HINT: ' || hnt);
END $$;
CREATE ROLE drift_dev;
GRANT CREATE, USAGE ON SCHEMA drift_test TO drift_dev;

-- off by default: no event trigger, nothing recorded
CREATE TABLE before_enabling (id int);
SELECT count(*) AS recorded FROM morgenmigrate.drift;
SELECT count(*) AS event_triggers FROM pg_event_trigger;

-- drift_enable() creates the two event triggers; a second call changes nothing
SELECT morgenmigrate.drift_enable();
SELECT morgenmigrate.drift_enable();
SELECT evtname, evtevent, evtenabled, evtfoid::regproc FROM pg_event_trigger ORDER BY evtname;

-- migrations, rehearsals and rollbacks are not drift
SELECT filename, status FROM morgenmigrate.migrate_apply(:'dir');
SELECT filename, status FROM morgenmigrate.migrate_rollback(:'dir', 2);
SELECT filename, status FROM morgenmigrate.migrate_apply(:'dir', dry_run => true);
SELECT filename, status FROM morgenmigrate.migrate_apply(:'dir');
SELECT count(*) AS recorded FROM morgenmigrate.drift;
SELECT morgenmigrate.migrate_check(:'dir');

-- nor are temporary objects, extension scripts and materialized view refreshes
CREATE TEMP TABLE scratch (id int);
CREATE INDEX ON scratch (id);
ALTER TABLE scratch ADD COLUMN note text;
DROP TABLE scratch;
CREATE TEMP VIEW scratch_view AS SELECT 1 AS one;
CREATE EXTENSION citext VERSION '1.4';
ALTER EXTENSION citext UPDATE TO '1.5';
DROP EXTENSION citext;
SELECT count(*) AS recorded FROM morgenmigrate.drift;

-- a superuser's hand-made ALTER TABLE is recorded, who and what
ALTER TABLE drift_accounts ADD COLUMN nickname text;
SELECT * FROM recorded;

-- a role without any right on the extension: its DDL works and is recorded
SET ROLE drift_dev;
CREATE TABLE dev_notes (id int PRIMARY KEY, body text);
ALTER TABLE dev_notes DROP COLUMN body;
DROP TABLE dev_notes;
-- (it cannot even read the drift table)
SELECT count(*) FROM morgenmigrate.drift;
RESET ROLE;
SELECT command_tag, object_type, object_identity, by_me, my_session, statement
FROM recorded WHERE NOT by_me;

-- a superuser's way to make DDL unrecorded: event triggers fire only for
-- session_replication_role = origin
SET session_replication_role = replica;
CREATE TABLE unrecorded_on_purpose (id int);
RESET session_replication_role;
SELECT count(*) AS recorded FROM morgenmigrate.drift WHERE statement ~ 'unrecorded_on_purpose';

-- a materialized view is drift, its refresh is not
CREATE MATERIALIZED VIEW account_count AS SELECT count(*) AS n FROM drift_accounts;
REFRESH MATERIALIZED VIEW account_count;
SELECT command_tag, object_identity FROM recorded WHERE object_identity LIKE '%account_count';

-- migrate_status(dir) shows each unacknowledged change as a row of its own
SELECT filename, state, applied_at IS NOT NULL AS has_time,
       replace(error, session_user, '<superuser>') AS error
FROM morgenmigrate.migrate_status(:'after');

-- migrate_check(dir) names the pending file and every change: what, by whom, when
-- (unaligned: the message names the directory of the fixtures, whose
-- length changes from run to run)
\pset format unaligned
SELECT error_of(format('SELECT morgenmigrate.migrate_check(%L)', :'after'));
\pset format aligned
-- with every file applied, drift alone fails it
SELECT error_of(format('SELECT morgenmigrate.migrate_check(%L)', :'dir'));

-- a migration that fails on an object drift touched says so; nothing applied
SELECT error_of(format('SELECT * FROM morgenmigrate.migrate_apply(%L)', :'after'));
SELECT count(*) AS history FROM morgenmigrate.schema_migrations;
-- a row inserted by hand, without an object type, is named like the others
INSERT INTO morgenmigrate.drift (recorded_at, user_name, session_user_name, command_tag, object_identity)
    VALUES (now(), 'someone', 'someone', 'ALTER TABLE', 'drift_test.drift_accounts');
SELECT error_of(format('SELECT * FROM morgenmigrate.migrate_apply(%L)', :'after')) ~ 'ALTER TABLE drift_test.drift_accounts by someone' AS names_it;
DELETE FROM morgenmigrate.drift WHERE user_name = 'someone';
-- a failure on an object drift did not touch says nothing of drift
SELECT error_of($q$SELECT * FROM morgenmigrate.migrate_apply('@fixtures@/errors')$q$) ~ 'outside the migrations' AS mentions_drift;

-- a failure to record never fails the DDL: a WARNING, and the DDL stands
ALTER TABLE morgenmigrate.drift ADD CONSTRAINT refuse_views CHECK (command_tag <> 'CREATE VIEW') NOT VALID;
CREATE VIEW still_created AS SELECT 1 AS one;
SELECT to_regclass('still_created') IS NOT NULL AS view_exists;
ALTER TABLE morgenmigrate.drift DROP CONSTRAINT refuse_views;

-- acknowledging: a note is required; bad input changes nothing
SELECT count(*) AS unacknowledged FROM morgenmigrate.drift WHERE acknowledged_at IS NULL;
SELECT morgenmigrate.drift_acknowledge(NULL);
SELECT morgenmigrate.drift_acknowledge('  ');
SELECT count(*) AS unacknowledged FROM morgenmigrate.drift WHERE acknowledged_at IS NULL;
-- up to a point: the hand-made ALTER TABLE and what came before it
SELECT morgenmigrate.drift_acknowledge('nickname added during incident 4711; migration 003 rewritten',
    (SELECT recorded_at FROM morgenmigrate.drift WHERE command_tag = 'ALTER TABLE' ORDER BY id LIMIT 1));
SELECT command_tag, object_identity, acknowledged, acknowledged_by_me, note FROM recorded;
SELECT count(*) AS status_drift_rows FROM morgenmigrate.migrate_status(:'dir') WHERE state = 'drift';
-- then all of it
SELECT morgenmigrate.drift_acknowledge('reviewed');
SELECT count(*) AS status_drift_rows FROM morgenmigrate.migrate_status(:'dir') WHERE state = 'drift';
SELECT morgenmigrate.migrate_check(:'dir');
SELECT morgenmigrate.drift_acknowledge('nothing left');

-- migrate_run's concurrent index build runs in a worker: not drift either
CALL morgenmigrate.migrate_run(:'run');
SELECT indexrelid::regclass AS built FROM pg_index WHERE indrelid = 'drift_events'::regclass;
SELECT count(*) AS unacknowledged FROM morgenmigrate.drift WHERE acknowledged_at IS NULL;

-- every command that can change a temporary object, run on objects in
-- pg_temp and then on the same objects in a permanent schema: none of the
-- first is drift (a trigger, a policy or a rule has no schema of its own,
-- a GRANT names no object: their table's or objects' schema decides),
-- every one of the second is
CREATE TABLE object_commands (n serial, command text);
INSERT INTO object_commands (command) VALUES
  ('CREATE TABLE %1$s.things (id int PRIMARY KEY, a int, b int)'),
  ('CREATE INDEX things_a ON %1$s.things (a)'),
  ('ALTER INDEX %1$s.things_a RENAME TO things_a_idx'),
  ('CREATE SEQUENCE %1$s.things_seq'),
  ('ALTER SEQUENCE %1$s.things_seq OWNED BY %1$s.things.id'),
  ('CREATE VIEW %1$s.things_view AS SELECT id, a FROM %1$s.things'),
  ('ALTER VIEW %1$s.things_view ALTER COLUMN a SET DEFAULT 0'),
  ('CREATE FUNCTION %1$s.things_touch() RETURNS trigger LANGUAGE plpgsql AS $f$BEGIN RETURN NEW; END$f$'),
  ('ALTER FUNCTION %1$s.things_touch() COST 10'),
  ('CREATE TRIGGER things_touch BEFORE INSERT ON %1$s.things FOR EACH ROW EXECUTE FUNCTION %1$s.things_touch()'),
  ('ALTER TRIGGER things_touch ON %1$s.things RENAME TO things_touched'),
  ('ALTER TABLE %1$s.things DISABLE TRIGGER things_touched'),
  ('CREATE POLICY things_mine ON %1$s.things USING (true)'),
  ('ALTER POLICY things_mine ON %1$s.things USING (a > 0)'),
  ('ALTER TABLE %1$s.things ENABLE ROW LEVEL SECURITY'),
  ('CREATE RULE things_view_update AS ON UPDATE TO %1$s.things_view DO INSTEAD NOTHING'),
  ('ALTER RULE things_view_update ON %1$s.things_view RENAME TO things_view_ignore'),
  ('CREATE STATISTICS %1$s.things_ab ON a, b FROM %1$s.things'),
  ('ALTER STATISTICS %1$s.things_ab SET STATISTICS 10'),
  ('CREATE TYPE %1$s.mood AS ENUM (''ok'')'),
  ('ALTER TYPE %1$s.mood ADD VALUE ''fine'''),
  ('CREATE DOMAIN %1$s.positive AS int CHECK (VALUE > 0)'),
  ('ALTER DOMAIN %1$s.positive SET DEFAULT 1'),
  ('CREATE OPERATOR %1$s.<<< (LEFTARG = int, RIGHTARG = int, FUNCTION = int4lt)'),
  ('CREATE OPERATOR FAMILY %1$s.things_ops USING btree'),
  ('CREATE OPERATOR CLASS %1$s.things_ops FOR TYPE int USING btree FAMILY %1$s.things_ops AS OPERATOR 1 <, FUNCTION 1 btint4cmp(int, int)'),
  ('ALTER OPERATOR FAMILY %1$s.things_ops USING btree ADD OPERATOR 2 <= (int, int)'),
  ('CREATE TEXT SEARCH CONFIGURATION %1$s.things_search (COPY = english)'),
  ('ALTER TEXT SEARCH CONFIGURATION %1$s.things_search DROP MAPPING FOR email'),
  ('ALTER TABLE %1$s.things ADD COLUMN note text DEFAULT '''', ADD CONSTRAINT things_a_positive CHECK (a > 0)'),
  ('ALTER TABLE %1$s.things ALTER COLUMN note SET DEFAULT ''-'''),
  ('ALTER TABLE %1$s.things RENAME COLUMN b TO c'),
  ('CREATE TABLE %1$s.things_copy AS SELECT * FROM %1$s.things'),
  ('CREATE TABLE %1$s.parted (id int) PARTITION BY RANGE (id)'),
  ('CREATE TABLE %1$s.parted_low PARTITION OF %1$s.parted FOR VALUES FROM (0) TO (10)'),
  ('COMMENT ON TABLE %1$s.things IS ''things'''),
  ('COMMENT ON COLUMN %1$s.things.a IS ''a'''),
  ('COMMENT ON INDEX %1$s.things_a_idx IS ''index'''),
  ('COMMENT ON TRIGGER things_touched ON %1$s.things IS ''trigger'''),
  ('COMMENT ON POLICY things_mine ON %1$s.things IS ''policy'''),
  ('COMMENT ON RULE things_view_ignore ON %1$s.things_view IS ''rule'''),
  ('COMMENT ON CONSTRAINT things_a_positive ON %1$s.things IS ''constraint'''),
  ('COMMENT ON FUNCTION %1$s.things_touch() IS ''function'''),
  ('COMMENT ON TYPE %1$s.mood IS ''type'''),
  ('COMMENT ON STATISTICS %1$s.things_ab IS ''statistics'''),
  ('COMMENT ON SEQUENCE %1$s.things_seq IS ''sequence'''),
  ('GRANT SELECT ON %1$s.things, %1$s.things_view TO drift_dev'),
  ('GRANT UPDATE (a) ON %1$s.things TO drift_dev'),
  ('REVOKE SELECT ON %1$s.things FROM drift_dev'),
  ('GRANT USAGE ON SEQUENCE %1$s.things_seq TO drift_dev'),
  ('GRANT EXECUTE ON FUNCTION %1$s.things_touch() TO drift_dev'),
  ('GRANT USAGE ON TYPE %1$s.mood TO drift_dev'),
  ('GRANT USAGE ON DOMAIN %1$s.positive TO drift_dev'),
  ('REVOKE ALL ON %1$s.things, %1$s.things_view, %1$s.things_seq FROM drift_dev'),
  ('REVOKE ALL ON FUNCTION %1$s.things_touch() FROM drift_dev'),
  ('REVOKE ALL ON TYPE %1$s.mood, %1$s.positive FROM drift_dev'),
  ('DROP TRIGGER things_touched ON %1$s.things'),
  ('DROP POLICY things_mine ON %1$s.things'),
  ('DROP RULE things_view_ignore ON %1$s.things_view'),
  ('DROP STATISTICS %1$s.things_ab'),
  ('ALTER TABLE %1$s.things DROP CONSTRAINT things_a_positive'),
  ('ALTER TABLE %1$s.things DROP COLUMN note'),
  ('DROP INDEX %1$s.things_a_idx'),
  ('DROP VIEW %1$s.things_view'),
  ('DROP SEQUENCE %1$s.things_seq'),
  ('DROP FUNCTION %1$s.things_touch()'),
  ('DROP OPERATOR %1$s.<<< (int, int)'),
  ('DROP OPERATOR FAMILY %1$s.things_ops USING btree'),
  ('DROP TEXT SEARCH CONFIGURATION %1$s.things_search'),
  ('DROP DOMAIN %1$s.positive'),
  ('DROP TYPE %1$s.mood'),
  ('DROP TABLE %1$s.parted, %1$s.things_copy'),
  ('DROP TABLE %1$s.things');
CREATE PROCEDURE run_object_commands(schema text) LANGUAGE plpgsql AS $$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT command FROM object_commands ORDER BY n LOOP
        EXECUTE format(c.command, schema);
    END LOOP;
END $$;
CREATE SCHEMA drift_kept;
SELECT morgenmigrate.drift_acknowledge('the object commands of the test');
CALL run_object_commands('pg_temp');
SELECT count(*) AS unacknowledged FROM morgenmigrate.drift WHERE acknowledged_at IS NULL;
-- (the files migrate_run applied are not in this directory: a warning)
SET client_min_messages = error;
SELECT morgenmigrate.migrate_check(:'dir');
RESET client_min_messages;
CALL run_object_commands('drift_kept');
SELECT command_tag, object_type, object_identity
FROM morgenmigrate.drift WHERE acknowledged_at IS NULL ORDER BY id;
SELECT morgenmigrate.drift_acknowledge('the same commands on permanent objects');
-- a GRANT on a temporary and a permanent table is drift
CREATE TEMP TABLE scratch (id int);
GRANT SELECT ON scratch, drift_accounts TO drift_dev;
REVOKE SELECT ON scratch, drift_accounts FROM drift_dev;
DROP TABLE scratch;
SELECT command_tag, object_type, object_identity
FROM morgenmigrate.drift WHERE acknowledged_at IS NULL ORDER BY id;
SELECT morgenmigrate.drift_acknowledge('a grant on both');

-- only a superuser can switch recording on or off
GRANT USAGE ON SCHEMA morgenmigrate TO drift_dev;
GRANT EXECUTE ON FUNCTION morgenmigrate.drift_enable(), morgenmigrate.drift_disable() TO drift_dev;
SET ROLE drift_dev;
SELECT morgenmigrate.drift_enable();
SELECT morgenmigrate.drift_disable();
RESET ROLE;
SELECT count(*) AS event_triggers FROM pg_event_trigger;

-- the event triggers depend on the extension's functions: drop them first
DROP VIEW recorded;
SET client_min_messages = warning;
DROP EXTENSION morgenmigrate;
RESET client_min_messages;
SELECT morgenmigrate.drift_disable();
SELECT count(*) AS event_triggers FROM pg_event_trigger;
CREATE TABLE after_disabling (id int);
SELECT count(*) AS recorded_after_disabling FROM morgenmigrate.drift WHERE statement ~ 'after_disabling';

SET client_min_messages = warning;
DROP SCHEMA drift_test, drift_kept CASCADE;
REVOKE ALL ON FUNCTION morgenmigrate.drift_enable(), morgenmigrate.drift_disable() FROM drift_dev;
REVOKE ALL ON SCHEMA morgenmigrate FROM drift_dev;
DROP ROLE drift_dev;
DROP EXTENSION morgenmigrate;
