--
-- Push: migration files sent over the connection into a table, read by
-- the push forms of the functions as a directory of the server is read.
-- The same sets read from disk and pushed give the same layouts, states,
-- checksums and errors; bad pushed sets are refused with nothing changed;
-- the push forms need EXECUTE only.
--
CREATE EXTENSION morgenmigrate;
CREATE SCHEMA push_test;
SET search_path = push_test;
\set base '@fixtures@'

-- the files of a directory of the server, as the client sends them: each
-- entry, and the entries of each subdirectory but hidden ones
CREATE TABLE mm_pushed_dir (path bytea, content bytea);
CREATE FUNCTION push_dir(dir text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    e text;
    s text;
BEGIN
    TRUNCATE mm_pushed_dir;
    FOR e IN SELECT pg_ls_dir(dir) LOOP
        IF (pg_stat_file(dir || '/' || e)).isdir THEN
            INSERT INTO mm_pushed_dir VALUES (convert_to(e, 'UTF8'), NULL);
            CONTINUE WHEN left(e, 1) = '.';
            FOR s IN SELECT pg_ls_dir(dir || '/' || e) LOOP
                INSERT INTO mm_pushed_dir
                SELECT convert_to(e || '/' || s, 'UTF8'),
                       CASE WHEN NOT f.isdir
                            THEN pg_read_binary_file(dir || '/' || e || '/' || s) END
                  FROM pg_stat_file(dir || '/' || e || '/' || s) f;
            END LOOP;
        ELSE
            INSERT INTO mm_pushed_dir
            VALUES (convert_to(e, 'UTF8'), pg_read_binary_file(dir || '/' || e));
        END IF;
    END LOOP;
END $$;

-- what a query returns, one text per row, or its error (SQLSTATE and
-- message), with the directory's name (its path, or the pushed table's
-- name) as DIR
CREATE FUNCTION outcome(q text, dir text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    r text;
BEGIN
    FOR r IN EXECUTE q LOOP
        RETURN NEXT replace(replace(r, dir, 'DIR'), 'mm_pushed_dir', 'DIR');
    END LOOP;
EXCEPTION WHEN OTHERS THEN
    RETURN NEXT 'ERROR ' || SQLSTATE || ': ' ||
        replace(replace(SQLERRM, dir, 'DIR'), 'mm_pushed_dir', 'DIR');
END $$;

-- the rows in which reading the directory and reading its pushed files
-- differ, for migrate_layout and migrate_status
CREATE FUNCTION differences(dir text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    f text;
BEGIN
    PERFORM push_dir(dir);
    FOREACH f IN ARRAY ARRAY['migrate_layout', 'migrate_status'] LOOP
        RETURN QUERY
        (SELECT 'disk only: ' || o FROM outcome(format('SELECT t::text FROM morgenmigrate.%s(%L) t', f, dir), dir) o
         EXCEPT ALL
         SELECT 'disk only: ' || o FROM outcome(format('SELECT t::text FROM morgenmigrate.%s(files => %L) t', f, 'mm_pushed_dir'), dir) o)
        UNION ALL
        (SELECT 'pushed only: ' || o FROM outcome(format('SELECT t::text FROM morgenmigrate.%s(files => %L) t', f, 'mm_pushed_dir'), dir) o
         EXCEPT ALL
         SELECT 'pushed only: ' || o FROM outcome(format('SELECT t::text FROM morgenmigrate.%s(%L) t', f, dir), dir) o);
    END LOOP;
END $$;

-- Every layout's fixtures, the refused ones among them: pushed, they read
-- as they read from disk (the first column says what the disk gives: how
-- many entries, or the error)
SELECT d AS fixture,
       (SELECT CASE WHEN o LIKE 'ERROR%' THEN left(o, 60) ELSE count(*) OVER ()::text END
          FROM outcome(format('SELECT t::text FROM morgenmigrate.migrate_layout(%L) t', :'base' || '/' || d), :'base' || '/' || d) o
         LIMIT 1) AS on_disk,
       (SELECT count(*) FROM differences(:'base' || '/' || d)) AS differences
  FROM unnest(ARRAY[
    'basic', 'demo', 'run', 'toplevel', 'encoding/crlf', 'encoding/bad', 'encoding/nul',
    'layouts/dbmate', 'layouts/diesel', 'layouts/flyway', 'layouts/flyway_undo_version',
    'layouts/golang_migrate', 'layouts/goose', 'layouts/goose_go', 'layouts/malformed',
    'layouts/node_pg_migrate', 'layouts/postgrator', 'layouts/sql_migrate',
    'layout_diesel/empty_dir', 'layout_diesel/metadata', 'layout_diesel/unknown_dir',
    'layout_diesel/no_transaction_batch', 'layout_diesel/flat_with_fixtures',
    'layout_flyway/conf_case', 'layout_flyway/orphan_conf', 'layout_flyway/two_confs',
    'layout_flyway/mixed_conf', 'layout_flyway/script_kinds',
    'layout_flyway/repeatable_utf16', 'layout_flyway/repeatable_bare',
    'layout_flyway/version_too_long', 'layout_diesel/version_too_long',
    'layout_goose/hidden_sql', 'layout_goose/sql_subdir', 'layout_goose/go_subdir',
    'layout_sql_migrate/sql_subdir', 'layout_postgrator/sql_subdir',
    'layout_postgrator/script_subdir', 'layout_postgrator/other_subdirs',
    'layout_node_pg_migrate/quote', 'layout_node_pg_migrate/backslash']) d;

-- Checksums: the same bytes give the same checksum.  The history written
-- from disk (a BOM and CRLF line ends among the files) finds the pushed
-- files unchanged, and the other way round.
SELECT push_dir(:'base' || '/encoding/crlf');
SELECT morgenmigrate.migrate_baseline(:'base' || '/encoding/crlf');
SELECT filename, state FROM morgenmigrate.migrate_status(files => 'mm_pushed_dir');
DELETE FROM morgenmigrate.schema_migrations;
SELECT morgenmigrate.migrate_baseline(files => 'mm_pushed_dir');
SELECT filename, state FROM morgenmigrate.migrate_status(:'base' || '/encoding/crlf');
DELETE FROM morgenmigrate.schema_migrations;

-- Applying, running and rolling back a pushed set, a table holding its
-- path as text: the checksum of an LF file is the SHA-256 of its bytes
CREATE TEMPORARY TABLE pushed_text (path text, content bytea);
INSERT INTO pushed_text VALUES
    ('001_create_teams.sql', convert_to(E'CREATE TABLE teams (id int PRIMARY KEY);\n', 'UTF8')),
    ('001_create_teams.down.sql', convert_to(E'DROP TABLE teams;\n', 'UTF8')),
    ('002_teams_name.sql', convert_to(E'ALTER TABLE teams ADD name text;\nCREATE INDEX CONCURRENTLY teams_name ON teams (name);\n', 'UTF8')),
    ('002_teams_name.down.sql', convert_to(E'DROP INDEX CONCURRENTLY teams_name;\nALTER TABLE teams DROP name;\n', 'UTF8')),
    ('003_café.sql', convert_to(E'CREATE TABLE café (id int);\n', 'UTF8')),
    ('003_café.down.sql', convert_to(E'DROP TABLE café;\n', 'UTF8'));
SELECT filename, status FROM morgenmigrate.migrate_apply(files => 'pushed_text', target => '1');
SELECT h.checksum = encode(sha256(p.content), 'hex') AS checksum_of_the_bytes
  FROM morgenmigrate.schema_migrations h JOIN pushed_text p ON p.path = h.filename;
\set VERBOSITY terse
SELECT * FROM morgenmigrate.migrate_apply(files => 'pushed_text');
\set VERBOSITY default
-- the index built concurrently, by the worker, from the pushed text
CALL morgenmigrate.migrate_run(files => 'pushed_text');
SELECT indexrelid::regclass AS index, indisvalid FROM pg_index WHERE indrelid = 'teams'::regclass ORDER BY 1;
SELECT filename, state FROM morgenmigrate.migrate_status(files => 'pushed_text');
SELECT morgenmigrate.migrate_check(files => 'pushed_text');
UPDATE pushed_text SET content = content || '\x0a' WHERE path = '003_café.sql';
SELECT filename, state FROM morgenmigrate.migrate_status(files => 'pushed_text');
SELECT morgenmigrate.migrate_check(files => 'pushed_text');
SELECT filename, action FROM morgenmigrate.migrate_repair(files => 'pushed_text');
SELECT filename, status FROM morgenmigrate.migrate_rollback(files => 'pushed_text', steps => 1);
SELECT to_regclass('café') IS NULL AS café_dropped;
\set VERBOSITY terse
SELECT * FROM morgenmigrate.migrate_rollback(files => 'pushed_text', target => 'base');
\set VERBOSITY default
CALL morgenmigrate.migrate_run_rollback(files => 'pushed_text', target => 'base');
SELECT to_regclass('teams') IS NULL AS teams_dropped;
SELECT count(*) AS history FROM morgenmigrate.schema_migrations;

-- Bad pushed sets: each is refused before anything runs, with nothing
-- recorded and nothing created (each holds a good file, 001_first.sql).
-- The calls are not all or nothing (atomic => false), so a set that were
-- read and run file by file would keep 001_first.sql and return: its row
-- would say "applied", with the history and the table that ran.
CREATE TEMPORARY TABLE bad (path bytea, content bytea);
CREATE FUNCTION refused(what text, extra bytea[]) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    outcome text;
BEGIN
    TRUNCATE bad;
    INSERT INTO bad VALUES ('001_first.sql', 'CREATE TABLE first (id int);');
    INSERT INTO bad SELECT extra[i], extra[i + 1]
      FROM generate_subscripts(extra, 1) i WHERE i % 2 = 1;
    BEGIN
        PERFORM morgenmigrate.migrate_apply(files => 'bad', atomic => false);
        outcome := 'applied';
    EXCEPTION WHEN OTHERS THEN
        outcome := SQLSTATE || ' ' || SQLERRM;
    END;
    RETURN what || ': ' || outcome ||
        (SELECT format(' (history %s, first %s)', count(*),
                       coalesce(to_regclass('first')::text, 'not created'))
           FROM morgenmigrate.schema_migrations);
END $$;
SELECT refused('dot dot', ARRAY['../002_x.sql', 'SELECT 1;']::bytea[]);
SELECT refused('dot dot inside', ARRAY['sub/../../002_x.sql', 'SELECT 1;']::bytea[]);
SELECT refused('absolute', ARRAY['/etc/002_x.sql', 'SELECT 1;']::bytea[]);
SELECT refused('empty part', ARRAY['sub//002_x.sql', 'SELECT 1;']::bytea[]);
SELECT refused('trailing slash', ARRAY['sub/', NULL]::bytea[]);
SELECT refused('dot', ARRAY['./002_x.sql', 'SELECT 1;']::bytea[]);
SELECT refused('empty', ARRAY['', 'SELECT 1;']::bytea[]);
SELECT refused('NUL byte', ARRAY['\x3030325f00782e73716c', 'SELECT 1;']::bytea[]);
SELECT refused('sent twice', ARRAY['002_x.sql', 'SELECT 1;', '002_x.sql', 'SELECT 2;']::bytea[]);
SELECT refused('file and directory', ARRAY['002_x', 'SELECT 1;', '002_x/up.sql', 'SELECT 2;']::bytea[]);
SELECT refused('directory twice', ARRAY['sub', NULL, 'sub', NULL]::bytea[]);
SELECT refused('name not UTF-8', ARRAY['\x3030325fe92e73716c', 'SELECT 1;']::bytea[]);
SELECT refused('text not UTF-8', ARRAY['002_x.sql', '\x53454c45435420313b0a53454c45435420e93b']::bytea[]);
SELECT refused('NUL in the text', ARRAY['002_x.sql', '\x53454c45435420313b0a00']::bytea[]);
SELECT refused('bad SQL', ARRAY['002_x.sql', 'SELEC 1;']::bytea[]);
SET morgenmigrate.max_file_size = 1;
SELECT refused('file over max_file_size', ARRAY['002_x.sql', convert_to(repeat('-', 1025), 'UTF8')]::bytea[]);
SELECT refused('file over max_file_size, not a migration', ARRAY['README.md', convert_to(repeat('-', 1025), 'UTF8')]::bytea[]);
RESET morgenmigrate.max_file_size;
SET morgenmigrate.max_push_size = 1;
SELECT refused('set over max_push_size', ARRAY['002_x.sql', convert_to(repeat('-', 500), 'UTF8'), 'README.md', convert_to(repeat('-', 500), 'UTF8')]::bytea[]);
RESET morgenmigrate.max_push_size;
SELECT refused('good', ARRAY['002_x.sql', 'SELECT 1;']::bytea[]);
DROP TABLE first;
DELETE FROM morgenmigrate.schema_migrations;

-- Files in slices: a table with a column part holds a file in several
-- rows, numbered from 1, and reads it as their bytes in the order of the
-- parts, whatever the order of the rows.  basic's files cut into slices
-- of 7 bytes (its directory one row, with part 1; an empty file one empty
-- slice) give the history the files on disk give, checksums included.
SELECT push_dir(:'base' || '/basic');
CREATE TEMPORARY TABLE sliced (path bytea, content bytea, part bigint);
INSERT INTO sliced
SELECT path, substr(content, s, 7), (s + 6) / 7
  FROM mm_pushed_dir, generate_series(1, octet_length(content), 7) s
 ORDER BY 3 DESC;
INSERT INTO sliced SELECT path, NULL, 1 FROM mm_pushed_dir WHERE content IS NULL;
INSERT INTO sliced VALUES ('empty.txt', '', 1);
SELECT count(*) AS rows, count(DISTINCT path) AS files, max(part) AS most_parts FROM sliced;
SELECT morgenmigrate.migrate_baseline(:'base' || '/basic');
CREATE TEMPORARY TABLE disk_history AS
SELECT filename, checksum, kind FROM morgenmigrate.schema_migrations;
SELECT filename, state FROM morgenmigrate.migrate_status(files => 'sliced');
SELECT morgenmigrate.migrate_check(files => 'sliced');
DELETE FROM morgenmigrate.schema_migrations;
SELECT morgenmigrate.migrate_baseline(files => 'sliced');
SELECT count(*) AS history_differences FROM (
    (SELECT filename, checksum, kind FROM morgenmigrate.schema_migrations
     EXCEPT ALL SELECT * FROM disk_history)
    UNION ALL
    (SELECT * FROM disk_history
     EXCEPT ALL SELECT filename, checksum, kind FROM morgenmigrate.schema_migrations)) d;
DELETE FROM morgenmigrate.schema_migrations;
-- applied from slices (a smallint part, a text path): the statement runs
-- whole, and the checksum is the SHA-256 of the file's bytes
CREATE TEMPORARY TABLE sliced_text (path text, content bytea, part smallint);
INSERT INTO sliced_text VALUES
    ('001_sliced.sql', convert_to(E'e (id int);\n', 'UTF8'), 3),
    ('001_sliced.sql', convert_to('CREATE TABLE s', 'UTF8'), 1),
    ('001_sliced.sql', convert_to('liced_tabl', 'UTF8'), 2),
    ('002_whole.sql', convert_to(E'ALTER TABLE sliced_table ADD name text;\n', 'UTF8'), 1);
SELECT filename, status FROM morgenmigrate.migrate_apply(files => 'sliced_text');
SELECT h.filename, h.checksum = encode(sha256(
           convert_to(E'CREATE TABLE sliced_table (id int);\n', 'UTF8')), 'hex') AS checksum_of_the_file
  FROM morgenmigrate.schema_migrations h WHERE filename = '001_sliced.sql';
SELECT attname FROM pg_attribute WHERE attrelid = 'sliced_table'::regclass AND attnum > 0 ORDER BY attnum;
DROP TABLE sliced_table;
DELETE FROM morgenmigrate.schema_migrations;

-- Bad slices: each refused before anything runs, nothing recorded,
-- nothing created (each set holds a good file, 001_first.sql, applied
-- with atomic => false, and 002_x.sql, which would create second)
CREATE TEMPORARY TABLE bad_parts (path bytea, content bytea, part integer);
CREATE FUNCTION refused_parts(what text, rows text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    outcome text;
    detail text;
BEGIN
    TRUNCATE bad_parts;
    INSERT INTO bad_parts VALUES ('001_first.sql', 'CREATE TABLE first (id int);', 1);
    EXECUTE 'INSERT INTO bad_parts VALUES ' || rows;
    BEGIN
        PERFORM morgenmigrate.migrate_apply(files => 'bad_parts', atomic => false);
        outcome := 'applied';
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
        outcome := SQLSTATE || ' ' || SQLERRM || coalesce(' (' || nullif(detail, '') || ')', '');
    END;
    RETURN what || ': ' || outcome ||
        (SELECT format(' (history %s, first %s, second %s)', count(*),
                       coalesce(to_regclass('first')::text, 'not created'),
                       coalesce(to_regclass('second')::text, 'not created'))
           FROM morgenmigrate.schema_migrations);
END $$;
SELECT refused_parts('a gap', $$('002_x.sql', 'CREATE TABLE ', 1), ('002_x.sql', 'second (id int);', 3)$$);
SELECT refused_parts('a part twice', $$('002_x.sql', 'CREATE TABLE ', 1), ('002_x.sql', 'second (id int);', 2), ('002_x.sql', 'second (id int);', 2)$$);
SELECT refused_parts('a path twice, part 1 each', $$('002_x.sql', 'CREATE TABLE second (id int);', 1), ('002_x.sql', 'CREATE TABLE second (id int);', 1)$$);
SELECT refused_parts('a NULL part', $$('002_x.sql', 'CREATE TABLE ', 1), ('002_x.sql', 'second (id int);', NULL)$$);
SELECT refused_parts('a file of one row, its part NULL', $$('002_x.sql', 'CREATE TABLE second (id int);', NULL)$$);
SELECT refused_parts('a directory, its part NULL', $$('sub', NULL, NULL)$$);
SELECT refused_parts('part 0', $$('002_x.sql', 'CREATE TABLE ', 0), ('002_x.sql', 'second (id int);', 1)$$);
SELECT refused_parts('a negative part', $$('002_x.sql', 'CREATE TABLE second (id int);', -1)$$);
SELECT refused_parts('parts from 2', $$('002_x.sql', 'CREATE TABLE ', 2), ('002_x.sql', 'second (id int);', 3)$$);
SELECT refused_parts('content and NULL', $$('002_x.sql', 'CREATE TABLE second (id int);', 1), ('002_x.sql', NULL, 2)$$);
SELECT refused_parts('NULL and content', $$('002_x.sql', NULL, 1), ('002_x.sql', 'CREATE TABLE second (id int);', 2)$$);
SELECT refused_parts('a directory in two rows', $$('sub', NULL, 1), ('sub', NULL, 2)$$);
SELECT refused_parts('a file in slices and a directory', $$('002_x', 'CREATE TABLE ', 1), ('002_x', 'second (id int);', 2), ('002_x/up.sql', 'SELECT 1;', 1)$$);
SELECT refused_parts('bad SQL across slices', $$('002_x.sql', 'CREATE TAB', 1), ('002_x.sql', 'E second (id int);', 2)$$);
SET morgenmigrate.max_file_size = 1;
SELECT refused_parts('slices under max_file_size, the file over it', format($$('002_x.sql', %L, 1), ('002_x.sql', %L, 2)$$, repeat('-', 600), repeat('-', 600)));
RESET morgenmigrate.max_file_size;
SET morgenmigrate.max_push_size = 1;
SELECT refused_parts('slices over max_push_size', format($$('002_x.sql', %L, 1), ('002_x.sql', %L, 2)$$, repeat('-', 600), repeat('-', 600)));
RESET morgenmigrate.max_push_size;
SELECT refused_parts('good', $$('002_x.sql', 'CREATE TABLE ', 1), ('002_x.sql', 'second (id int);', 2)$$);
DROP TABLE first, second;
DELETE FROM morgenmigrate.schema_migrations;
-- a table that is none, or lacks its columns
CREATE TEMPORARY TABLE no_content (path text);
CREATE TEMPORARY TABLE path_int (path int, content bytea);
CREATE TEMPORARY TABLE content_text (path text, content text);
CREATE TEMPORARY VIEW pushed_view AS SELECT * FROM bad;
CREATE TEMPORARY TABLE no_path (content bytea);
INSERT INTO no_path VALUES ('x');
CREATE TEMPORARY TABLE null_path (path text, content bytea);
INSERT INTO null_path VALUES (NULL, 'x');
CREATE TEMPORARY TABLE part_text (path text, content bytea, part text);
INSERT INTO part_text VALUES ('001_first.sql', 'CREATE TABLE first (id int);', '1');
CREATE TEMPORARY TABLE part_numeric (path text, content bytea, part numeric);
INSERT INTO part_numeric VALUES ('001_first.sql', 'CREATE TABLE first (id int);', 1);
SELECT * FROM morgenmigrate.migrate_status(files => 'no_content');
SELECT * FROM morgenmigrate.migrate_status(files => 'path_int');
SELECT * FROM morgenmigrate.migrate_status(files => 'content_text');
SELECT * FROM morgenmigrate.migrate_status(files => 'pushed_view');
SELECT * FROM morgenmigrate.migrate_status(files => 'no_path');
SELECT * FROM morgenmigrate.migrate_status(files => 'null_path');
SELECT * FROM morgenmigrate.migrate_status(files => NULL);
SELECT * FROM morgenmigrate.migrate_status(files => 'no_such_table');
SELECT * FROM morgenmigrate.migrate_apply(files => 'part_text');
SELECT * FROM morgenmigrate.migrate_apply(files => 'part_numeric');
SELECT count(*) AS history, to_regclass('first') AS first FROM morgenmigrate.schema_migrations;

-- Rights: the push forms need EXECUTE, and no right to read the server's
-- files, whatever morgenmigrate.allowed_directories says
CREATE ROLE push_deployer;
GRANT USAGE ON SCHEMA morgenmigrate, push_test TO push_deployer;
GRANT CREATE ON SCHEMA push_test TO push_deployer;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA morgenmigrate TO push_deployer;
GRANT SELECT ON pushed_text TO push_deployer;
SET morgenmigrate.allowed_directories = '/nonexistent';
SET ROLE push_deployer;
SELECT filename FROM morgenmigrate.migrate_status(files => 'pushed_text');
RESET ROLE;
GRANT EXECUTE ON FUNCTION morgenmigrate.migrate_apply(regclass, text, integer, boolean, boolean),
    morgenmigrate.migrate_status(regclass) TO push_deployer;
SET ROLE push_deployer;
SELECT filename, status FROM morgenmigrate.migrate_apply(files => 'pushed_text', target => '1');
SELECT filename, state FROM morgenmigrate.migrate_status(files => 'pushed_text');
-- the directory form still needs the right to read server files
RESET ROLE;
GRANT EXECUTE ON FUNCTION morgenmigrate.migrate_status(text) TO push_deployer;
SET ROLE push_deployer;
SELECT filename FROM morgenmigrate.migrate_status(:'base' || '/basic');
RESET ROLE;
RESET morgenmigrate.allowed_directories;
SELECT filename, applied_by FROM morgenmigrate.schema_migrations;
DROP TABLE teams;
DELETE FROM morgenmigrate.schema_migrations;
REVOKE ALL ON ALL TABLES IN SCHEMA morgenmigrate FROM push_deployer;
REVOKE ALL ON SCHEMA morgenmigrate, push_test FROM push_deployer;
DROP OWNED BY push_deployer;
DROP ROLE push_deployer;
-- nobody but their owner may run the push forms until granted
SELECT p.oid::regprocedure AS push_form,
       bool_or(a.grantee = 0) AS public_may,
       count(*) FILTER (WHERE a.grantee <> p.proowner) AS others_may
  FROM pg_proc p, aclexplode(p.proacl) a
 WHERE p.pronamespace = 'morgenmigrate'::regnamespace
   AND 'regclass'::regtype = ANY (p.proargtypes)
 GROUP BY p.oid
 ORDER BY p.oid::regprocedure::text;

SET client_min_messages = warning;
DROP SCHEMA push_test CASCADE;
DROP EXTENSION morgenmigrate;
