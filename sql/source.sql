--
-- The migration directory: which paths and files count,
-- links, encodings and checksums
--
CREATE EXTENSION morgenmigrate;
CREATE SCHEMA source_test;
SET search_path = source_test;

-- the directory must be an absolute path of a readable directory
SELECT * FROM morgenmigrate.migrate_apply('migrations/basic');
SELECT * FROM morgenmigrate.migrate_apply('@fixtures@/no_such_dir');
SELECT * FROM morgenmigrate.migrate_apply('@fixtures@/basic/1_create_teams.sql');
SELECT * FROM morgenmigrate.migrate_apply(NULL);
SELECT * FROM morgenmigrate.migrate_status('');
-- a trailing slash or a doubled one is the same directory
SELECT filename, state FROM morgenmigrate.migrate_status('@fixtures@//basic/');

-- links to regular files count (Kubernetes ConfigMap volumes are links)
SELECT filename, status FROM morgenmigrate.migrate_apply('@fixtures@/links');
SELECT checksum FROM morgenmigrate.schema_migrations ORDER BY filename;
TRUNCATE morgenmigrate.schema_migrations;
DROP TABLE members, teams;

-- a FIFO named *.sql is skipped with a WARNING, never opened
SELECT filename, status FROM morgenmigrate.migrate_apply('@fixtures@/fifo');
TRUNCATE morgenmigrate.schema_migrations;

-- a BOM and CRLF line ends: the text is the same as without them, and so is
-- the checksum (a checkout with other line ends is not "changed")
SELECT filename, status FROM morgenmigrate.migrate_apply('@fixtures@/encoding/crlf');
SELECT name, length(name) FROM encoded;
SELECT checksum = encode(sha256(pg_read_binary_file(
           '@fixtures@/encoding/lf/001_bom_crlf.sql')), 'hex') AS same_as_lf
  FROM morgenmigrate.schema_migrations;
SELECT filename, state FROM morgenmigrate.migrate_status('@fixtures@/encoding/lf');
TRUNCATE morgenmigrate.schema_migrations;

-- the text runs as it is: a CRLF inside a string literal stays in the
-- value, as psql and the other runners send it (only the checksum reads
-- CRLF as LF)
SELECT filename, status FROM morgenmigrate.migrate_apply('@fixtures@/encoding/crlf_literal');
SELECT value = E'line one\r\nline two' AS crlf_kept FROM crlf_kept;
SELECT checksum = encode(sha256(convert_to(replace(convert_from(pg_read_binary_file(
           '@fixtures@/encoding/crlf_literal/001_literal_across_lines.sql'), 'UTF8'),
           E'\r\n', E'\n'), 'UTF8')), 'hex') AS checksum_of_lf_text
  FROM morgenmigrate.schema_migrations;
TRUNCATE morgenmigrate.schema_migrations;
DROP TABLE crlf_kept;

-- invalid UTF-8 and NUL bytes are errors naming the file and line, found
-- before anything runs
SELECT * FROM morgenmigrate.migrate_apply('@fixtures@/encoding/bad', atomic => false);
SELECT * FROM morgenmigrate.migrate_apply('@fixtures@/encoding/nul', atomic => false);
SELECT to_regclass('utf8_ok') AS utf8_ok, to_regclass('nul_ok') AS nul_ok,
       count(*) AS history
  FROM morgenmigrate.schema_migrations;

-- files over morgenmigrate.max_file_size are refused
SET morgenmigrate.max_file_size = '1kB';
SELECT * FROM morgenmigrate.migrate_apply('@fixtures@/big');
SELECT to_regclass('big_file_ran') AS ran;
RESET morgenmigrate.max_file_size;
SHOW morgenmigrate.max_file_size;

SET client_min_messages = warning;
DROP SCHEMA source_test CASCADE;
DROP EXTENSION morgenmigrate;
