--
-- migrate_plan: what each statement of the pending files would cost, told
-- before anything runs; morgenmigrate.max_locked_bytes, which refuses a
-- file that would read every row of a bigger relation under a lock that
-- blocks writes, and the allow-locked-rewrite directive; the dry run's
-- report of the same.  (Every rule against the server, on big tables:
-- test/t/120_plan_rules.pl.)
--
CREATE EXTENSION morgenmigrate;
CREATE SCHEMA plan_test;
SET search_path = plan_test;
-- (no autovacuum: the sizes in the messages below stay as they are)
CREATE TABLE customers (id bigint PRIMARY KEY, name text)
  WITH (autovacuum_enabled = false);
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint,
                     status varchar(20), note text)
  WITH (autovacuum_enabled = false);
INSERT INTO customers SELECT g, 'c' || g FROM generate_series(1, 1000) g;
INSERT INTO orders SELECT g, g, 'new', 'n' FROM generate_series(1, 1000) g;
\set rules '@fixtures@/plan/rules'

-- a row per statement and relation it touches, in run order; sizes vary
-- with the server: shown as whether there is one, and masked in advice
SELECT filename, line, command, relation, lock_mode, effect,
       relation_bytes > 0 AS sized, blocks,
       regexp_replace(advice, '[0-9.]+ (bytes|kB|MB) ', '', 'g') AS advice
  FROM morgenmigrate.migrate_plan(:'rules');

-- the sessions in the way are looked up for every relation that exists
SELECT count(*) FILTER (WHERE relation IS NOT NULL) = count(blockers) AS looked_up
  FROM morgenmigrate.migrate_plan(:'rules');

-- nothing ran, nothing is recorded
SELECT attname FROM pg_attribute
 WHERE attrelid = 'orders'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum;
SELECT to_regclass('audit') AS audit, to_regclass('buyers') AS buyers;
SELECT count(*) AS history FROM morgenmigrate.schema_migrations;

-- another runner's migration (a goose .go file) cannot be classified: its
-- effect, and what it blocks, are unknown, and the advice says what to do
SELECT filename, line, command, relation, lock_mode, effect, relation_bytes,
       blocks, advice
  FROM morgenmigrate.migrate_plan('@fixtures@/layouts/goose_go')
 WHERE filename LIKE '%.go';

-- target and steps choose the files as migrate_apply would; applied files
-- are not planned
SELECT DISTINCT filename FROM morgenmigrate.migrate_plan(:'rules', steps => 1);
SELECT DISTINCT filename FROM morgenmigrate.migrate_plan(:'rules', target => '2') ORDER BY 1;
SELECT filename, status FROM morgenmigrate.migrate_apply(:'rules', steps => 1);
SELECT DISTINCT filename FROM morgenmigrate.migrate_plan(:'rules', target => '3') ORDER BY 1;
SELECT * FROM morgenmigrate.migrate_plan(:'rules', steps => 0);

-- arguments by position, NULL meaning none, as for migrate_apply; the
-- fleet forms do not make such a call ambiguous
SELECT count(*) > 0 AS planned FROM morgenmigrate.migrate_plan(:'rules', NULL, NULL);
SELECT DISTINCT filename FROM morgenmigrate.migrate_plan(:'rules', '2', NULL) ORDER BY 1;

-- bad arguments are refused, as by the other functions
SELECT * FROM morgenmigrate.migrate_plan(NULL);
SELECT * FROM morgenmigrate.migrate_plan('relative/path');
SELECT * FROM morgenmigrate.migrate_plan(:'rules', steps => -1);
SELECT * FROM morgenmigrate.migrate_plan(:'rules', target => '99');

-- a file the run would refuse is refused by the plan too
SELECT * FROM morgenmigrate.migrate_plan('@fixtures@/preflight/commit');

-- the plan changes nothing: it works in a read-only transaction
BEGIN TRANSACTION READ ONLY;
SELECT count(*) > 0 AS planned FROM morgenmigrate.migrate_plan(:'rules');
COMMIT;

SELECT morgenmigrate.migrate_forget('001_add_columns.sql');
ALTER TABLE orders DROP COLUMN kind, DROP COLUMN created, DROP COLUMN props;

-- morgenmigrate.max_locked_bytes: off by default
SHOW morgenmigrate.max_locked_bytes;

-- with a limit, a file that would read every row of a bigger relation
-- under a lock that blocks writes refuses the call before anything runs
SET morgenmigrate.max_locked_bytes = '8kB';
SHOW morgenmigrate.max_locked_bytes;
\set refused '@fixtures@/plan/refused'
-- (the table's size differs between server versions: it is checked against
-- pg_total_relation_size and shown as "(size)")
CREATE FUNCTION pg_temp.masked(msg text) RETURNS text LANGUAGE sql AS $$
  SELECT replace(msg, pg_size_pretty(pg_total_relation_size('plan_test.orders')), '(size)')
$$;
CREATE FUNCTION pg_temp.refusal(call text, OUT code text, OUT message text,
                                OUT detail text, OUT hint text, OUT context text)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE call;
    code := 'none';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
        detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT,
        context = PG_EXCEPTION_CONTEXT;
    message := pg_temp.masked(message);
    hint := pg_temp.masked(hint);
    context := split_part(context, E'\n', 1);
END
$$;
\x on
SELECT * FROM pg_temp.refusal(format('SELECT morgenmigrate.migrate_apply(%L)', :'refused'));
SELECT * FROM pg_temp.refusal(format('SELECT morgenmigrate.migrate_apply(%L, atomic => false)', :'refused'));
SELECT * FROM pg_temp.refusal(format('SELECT morgenmigrate.migrate_apply(%L, dry_run => true)', :'refused'));
\x off
-- (a procedure: called at top level, its message is read back masked)
\set VERBOSITY sqlstate
CALL morgenmigrate.migrate_run(:'refused');
\set VERBOSITY default
SELECT pg_temp.masked(:'LAST_ERROR_MESSAGE') AS run_refused;
SELECT attname FROM pg_attribute
 WHERE attrelid = 'orders'::regclass AND attname LIKE 'flag%' AND NOT attisdropped;
SELECT format_type(atttypid, atttypmod) FROM pg_attribute
 WHERE attrelid = 'orders'::regclass AND attname = 'customer_id';
SELECT count(*) AS history, (SELECT count(*) FROM morgenmigrate.migration_errors) AS failures
  FROM morgenmigrate.schema_migrations;

-- a file may take the cost on purpose; catalog changes need no leave
\set allowed '@fixtures@/plan/allowed'
SELECT filename, status FROM morgenmigrate.migrate_apply(:'allowed');
SELECT attname FROM pg_attribute
 WHERE attrelid = 'orders'::regclass AND attname IN ('stamped', 'flag') ORDER BY 1;

SELECT morgenmigrate.migrate_forget(filename) FROM morgenmigrate.schema_migrations;
ALTER TABLE orders DROP COLUMN stamped, DROP COLUMN flag;

-- a table the same call creates is empty: what it does to it costs
-- nothing, but once the call filled it, its size is the run's to know
SELECT filename, line, command, effect, relation_bytes, advice IS NOT NULL AS advice
  FROM morgenmigrate.migrate_plan('@fixtures@/plan/created');
SELECT filename, status FROM morgenmigrate.migrate_apply('@fixtures@/plan/created');
SELECT count(*) AS logged FROM login_log;
SELECT morgenmigrate.migrate_forget('001_login_log.sql');
RESET morgenmigrate.max_locked_bytes;

-- the dry run reports, beside the locks, what each statement that does more
-- than change the catalog costs
SELECT filename, status,
       regexp_replace(locks::text, '[0-9.]+ (bytes|kB|MB)', '(size)', 'g') AS locks
  FROM morgenmigrate.migrate_apply(:'refused', dry_run => true);

-- the new column of migration_errors, and the privileges
SELECT format_type(atttypid, atttypmod) AS blockers FROM pg_attribute
 WHERE attrelid = 'morgenmigrate.migration_errors'::regclass AND attname = 'blockers';
SELECT has_function_privilege('public', 'morgenmigrate.migrate_plan(text, text, integer)', 'EXECUTE') AS plan,
       has_table_privilege('public', 'morgenmigrate.progress', 'SELECT') AS progress,
       has_function_privilege('public', 'morgenmigrate.progress_slots()', 'EXECUTE') AS slots;

SET client_min_messages = warning;
DROP SCHEMA plan_test CASCADE;
DROP EXTENSION morgenmigrate;
