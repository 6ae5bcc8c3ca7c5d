# CALL migrate_run with statements no transaction block can hold: a set mixing tables, data, CREATE INDEX CONCURRENTLY (named,
# unique and unnamed), DROP INDEX CONCURRENTLY, REINDEX INDEX CONCURRENTLY,
# VACUUM and ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY applies; the
# indexes are valid, the history is complete, no worker is left.  Then a
# unique concurrent build over duplicate data fails with 23505 and its
# detail, is recorded with its line, keeps what committed before it, and
# once the data is fixed the next run drops the INVALID index it left and
# applies the file.
use strict;
use warnings;

use Digest::SHA qw(sha256_hex);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('toplevel_apply');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION morgenmigrate');

# Writes one migration file.
sub write_file
{
	my ($dir, $name, $text) = @_;
	PostgreSQL::Test::Utils::append_to_file("$dir/$name", $text);
	return $text;
}

# Runs SQL through psql (verbose errors); returns (exit code, stdout, stderr).
my $db = 'postgres';
sub run_psql
{
	my ($sql) = @_;
	my ($out, $err) = ('', '');
	my $ret = $node->psql($db, "\\set VERBOSITY verbose\n$sql",
		stdout => \$out, stderr => \$err);
	return ($ret, $out, $err);
}

sub query { return $node->safe_psql($db, $_[0]); }

sub workers_left
{
	return query(q{SELECT count(*) FROM pg_stat_activity
		WHERE backend_type = 'morgenmigrate worker'
		   OR application_name = 'morgenmigrate worker'});
}

#
# 1. A mixed set applies
#
my $dir = PostgreSQL::Test::Utils::tempdir();
my %text;
$text{'001_create_accounts.sql'} = write_file($dir, '001_create_accounts.sql', <<'EOF');
CREATE TABLE accounts (
    id integer PRIMARY KEY,
    email text NOT NULL,
    handle text NOT NULL,
    created_at date NOT NULL
);
INSERT INTO accounts
SELECT g, 'user' || g || '@example.com', 'h' || g, date '2024-01-01' + g % 365
  FROM generate_series(1, 5000) g;
CREATE TABLE readings (taken date NOT NULL, value integer) PARTITION BY RANGE (taken);
CREATE TABLE readings_2023 PARTITION OF readings
    FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
CREATE TABLE readings_2024 PARTITION OF readings
    FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
INSERT INTO readings
SELECT date '2023-06-01' + g % 400, g FROM generate_series(1, 2000) g;
EOF
$text{'002_index_accounts.sql'} = write_file($dir, '002_index_accounts.sql', <<'EOF');
-- several concurrent builds, with ordinary statements between them
CREATE INDEX CONCURRENTLY accounts_email_idx ON accounts (email);
CREATE UNIQUE INDEX CONCURRENTLY accounts_handle_key ON accounts (handle);
INSERT INTO accounts VALUES (5001, 'late@example.com', 'late', date '2024-12-31');
CREATE INDEX CONCURRENTLY ON accounts (created_at);
CREATE INDEX CONCURRENTLY accounts_scratch_idx ON accounts (lower(email));
CREATE INDEX CONCURRENTLY readings_value_idx ON readings_2023 (value);
EOF
write_file($dir, '003_add_column.sql',
	"ALTER TABLE accounts ADD COLUMN active boolean NOT NULL DEFAULT true;\n");

$node->command_ok(
	[ 'psql', '-X', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('postgres'),
	  '-c', "CALL morgenmigrate.migrate_run('$dir')" ],
	'first run: tables, data and concurrent builds apply');

my $email_oid = query(q{SELECT 'accounts_email_idx'::regclass::oid});

# the rework: drop, reindex, vacuum and detach, concurrently
$text{'004_rework.sql'} = write_file($dir, '004_rework.sql', <<'EOF');
DROP INDEX CONCURRENTLY accounts_scratch_idx;
REINDEX INDEX CONCURRENTLY accounts_email_idx;
UPDATE accounts SET active = false WHERE id % 10 = 0;
VACUUM (ANALYZE) accounts;
ALTER TABLE readings DETACH PARTITION readings_2023 CONCURRENTLY;
CREATE TABLE readings_archive_note (note text);
INSERT INTO readings_archive_note VALUES ('2023 detached');
EOF
my ($ret, $out, $err) = run_psql("CALL morgenmigrate.migrate_run('$dir')");
is($ret, 0, 'second run: drop, reindex, vacuum and detach apply')
  or diag($err);
unlike($err, qr/ERROR|WARNING/, 'second run: no error or warning');

is( query(q{
		SELECT string_agg(i.indexrelid::regclass || ':' || i.indisvalid || ':' || i.indisready, ',' ORDER BY i.indexrelid::regclass::text)
		  FROM pg_index i WHERE i.indrelid = 'accounts'::regclass}),
	'accounts_created_at_idx:true:true,accounts_email_idx:true:true,'
	  . 'accounts_handle_key:true:true,accounts_pkey:true:true',
	'the indexes of accounts are the pkey and the three concurrent builds, all valid and ready; the dropped one is gone');
is(query(q{SELECT indisunique FROM pg_index WHERE indexrelid = 'accounts_handle_key'::regclass}),
	't', 'the unique concurrent build is unique');
is(query(q{SELECT count(*) FROM pg_class WHERE relname LIKE '%ccnew%' OR relname LIKE '%ccold%'}),
	'0', 'REINDEX CONCURRENTLY left no _ccnew/_ccold index');
isnt(query(q{SELECT 'accounts_email_idx'::regclass::oid}), $email_oid,
	'REINDEX INDEX CONCURRENTLY replaced accounts_email_idx by a new index');
is( query(q{SELECT count(*) FROM accounts WHERE email = 'late@example.com' AND handle = 'late'}),
	'1', 'the row inserted between two builds is there');
is( query(q{
		SET enable_seqscan = off;
		EXPLAIN (COSTS OFF) SELECT id FROM accounts WHERE handle = 'h42'}) =~ /accounts_handle_key/
	  ? 'used' : 'not used',
	'used', 'the planner uses the concurrently built unique index');
is( query(q{SELECT pg_stat_get_last_vacuum_time('accounts'::regclass) IS NOT NULL
		AND pg_stat_get_last_analyze_time('accounts'::regclass) IS NOT NULL}),
	't', 'VACUUM (ANALYZE) ran on accounts');
is( query(q{SELECT c.relispartition || ',' ||
		(SELECT count(*) FROM pg_inherits WHERE inhrelid = c.oid) || ',' ||
		(SELECT count(*) FROM readings_2023) || ',' ||
		(SELECT count(*) FROM readings)
		  FROM pg_class c WHERE c.relname = 'readings_2023'}),
	'false,0,' . query(q{SELECT count(*) FROM readings_2023}) . ','
	  . query(q{SELECT count(*) FROM readings_2024}),
	'readings_2023 is detached with its rows; readings holds only 2024');
is(query(q{SELECT indisvalid FROM pg_index WHERE indexrelid = 'readings_value_idx'::regclass}),
	't', 'the index built on the partition before its detach is valid');
is(query(q{SELECT note FROM readings_archive_note}), '2023 detached',
	'the statements after the detach ran');

# the history: every file once, its checksum, nothing failed
my $expect_history = join("\n",
	map { "$_|" . sha256_hex($text{$_}) }
	  qw(001_create_accounts.sql 002_index_accounts.sql));
is( query(q{SELECT filename || '|' || checksum FROM morgenmigrate.schema_migrations
		WHERE filename IN ('001_create_accounts.sql', '002_index_accounts.sql') ORDER BY 1}),
	$expect_history, 'the history has 001 and 002 with the checksums of their text');
is( query(q{SELECT string_agg(filename || ':' || kind || ':' || (applied_by = current_user), ',' ORDER BY filename)
		FROM morgenmigrate.schema_migrations}),
	'001_create_accounts.sql:applied:true,002_index_accounts.sql:applied:true,'
	  . '003_add_column.sql:applied:true,004_rework.sql:applied:true',
	'the history is complete: four files applied, by the caller');
is( query(q{SELECT checksum FROM morgenmigrate.schema_migrations WHERE filename = '004_rework.sql'}),
	sha256_hex($text{'004_rework.sql'}), 'the checksum of 004 is that of its text');
is(query(q{SELECT count(*) FROM morgenmigrate.migration_errors}), '0',
	'no failure recorded');
is( query(qq{SELECT string_agg(state, ',') FROM morgenmigrate.migrate_status('$dir')}),
	'applied,applied,applied,applied', 'migrate_status says all four are applied');
is(workers_left(), '0', 'no morgenmigrate worker is left in pg_stat_activity');
is(query(q{SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'}), '0',
	'the session advisory lock was released');

# a third run finds nothing to do and changes nothing
($ret, $out, $err) = run_psql("CALL morgenmigrate.migrate_run('$dir')");
is($ret, 0, 'a third run succeeds');
is( query(q{SELECT count(*) || ',' || (SELECT count(*) FROM pg_index WHERE indrelid = 'accounts'::regclass)
		|| ',' || (SELECT count(*) FROM accounts) FROM morgenmigrate.schema_migrations}),
	'4,4,5001', 'a third run changes neither history, indexes nor data');

#
# 2. A unique concurrent build over duplicate data (in a database of its own)
#
$node->safe_psql('postgres', 'CREATE DATABASE codes');
$db = 'codes';
query('CREATE EXTENSION morgenmigrate');
my $udir = PostgreSQL::Test::Utils::tempdir();
write_file($udir, '001_create_codes.sql', <<'EOF');
CREATE TABLE codes (id integer PRIMARY KEY, code text NOT NULL);
INSERT INTO codes SELECT g, 'c' || g FROM generate_series(1, 3000) g;
INSERT INTO codes VALUES (3001, 'c77');
EOF
write_file($udir, '002_unique_codes.sql', <<'EOF');
CREATE TABLE IF NOT EXISTS code_log (id integer PRIMARY KEY, note text);
INSERT INTO code_log VALUES (1, 'before the build') ON CONFLICT DO NOTHING;

CREATE UNIQUE INDEX CONCURRENTLY codes_code_key
    ON codes (code);
CREATE TABLE code_after (id integer);
EOF
write_file($udir, '003_after.sql', "CREATE TABLE codes_next (id integer);\n");

($ret, $out, $err) = run_psql("CALL morgenmigrate.migrate_run('$udir')");
isnt($ret, 0, 'duplicate data: the run fails');
like($err, qr/ERROR:  23505: could not create unique index "codes_code_key"/,
	'duplicate data: 23505 with the message of the build');
like($err, qr/DETAIL:  Key \(code\)=\(c77\) is duplicated\./,
	'duplicate data: the detail names the duplicated key');
like($err, qr/CONTEXT:  migration "002_unique_codes\.sql", line 4/,
	'duplicate data: the context names the file and the line of the build');
like($err, qr/CONSTRAINT NAME:  codes_code_key/,
	'duplicate data: the constraint name of the worker\'s error is kept');
is( query(q{SELECT filename || '|' || sqlstate || '|' || message || '|' || detail || '|' || line
		FROM morgenmigrate.migration_errors}),
	'002_unique_codes.sql|23505|could not create unique index "codes_code_key"|Key (code)=(c77) is duplicated.|4',
	'duplicate data: migration_errors records the file, SQLSTATE, message, detail and line');
is( query(q{SELECT string_agg(filename, ',' ORDER BY filename) FROM morgenmigrate.schema_migrations}),
	'001_create_codes.sql', 'duplicate data: only 001 is applied, 002 and 003 are not');
is( query(q{SELECT note FROM code_log}), 'before the build',
	'duplicate data: what 002 committed before the build stays');
is( query(q{SELECT to_regclass('code_after') IS NULL AND to_regclass('codes_next') IS NULL}),
	't', 'duplicate data: nothing after the failed build ran');
is( query(q{SELECT indisvalid FROM pg_index WHERE indexrelid = 'codes_code_key'::regclass}),
	'f', 'duplicate data: the failed build left an INVALID index');
is( query(qq{SELECT string_agg(filename || ':' || state, ',') FROM morgenmigrate.migrate_status('$udir')}),
	'001_create_codes.sql:applied,002_unique_codes.sql:failed,003_after.sql:pending',
	'duplicate data: migrate_status shows 002 failed and 003 pending');
is(workers_left(), '0', 'duplicate data: no worker is left');

# with the data still wrong, a retry drops the INVALID index and fails again
($ret, $out, $err) = run_psql("CALL morgenmigrate.migrate_run('$udir')");
isnt($ret, 0, 'retry on duplicate data: fails again');
like($err, qr/NOTICE:  00000: dropping invalid index public\.codes_code_key\n/,
	'retry on duplicate data: the INVALID index is dropped first, with a NOTICE');
like($err, qr/ERROR:  23505: .*\n.*DETAIL:  Key \(code\)=\(c77\) is duplicated\./,
	'retry on duplicate data: the same 23505');
is(query(q{SELECT count(*) FROM pg_class WHERE relname LIKE 'codes_code_key%'}), '1',
	'retry on duplicate data: one INVALID index, not two');

# fix the data: the next run drops the INVALID index, builds it and goes on
query(q{DELETE FROM codes WHERE id = 3001});
($ret, $out, $err) = run_psql("CALL morgenmigrate.migrate_run('$udir')");
is($ret, 0, 'fixed data: the run succeeds') or diag($err);
like($err, qr/NOTICE:  00000: dropping invalid index public\.codes_code_key\n.*DETAIL:  A failed or interrupted concurrent build left it behind, and migration "002_unique_codes\.sql" builds on its table again\./,
	'fixed data: a NOTICE says the INVALID index is dropped, naming the migration');
is( query(q{SELECT indisvalid || ',' || indisunique FROM pg_index WHERE indexrelid = 'codes_code_key'::regclass}),
	'true,true', 'fixed data: the unique index is valid');
is( query(q{SELECT string_agg(filename, ',' ORDER BY filename) FROM morgenmigrate.schema_migrations}),
	'001_create_codes.sql,002_unique_codes.sql,003_after.sql',
	'fixed data: 002 and 003 are applied');
is(query(q{SELECT count(*) FROM morgenmigrate.migration_errors}), '0',
	'fixed data: the recorded failure is cleared');
is( query(q{SELECT (SELECT count(*) FROM code_log) || ',' ||
		(to_regclass('code_after') IS NOT NULL) || ',' || (to_regclass('codes_next') IS NOT NULL)}),
	'1,true,true', 'fixed data: the rest of 002 and 003 ran, 002\'s first statements once');
is(workers_left(), '0', 'fixed data: no worker is left');

$node->stop;
done_testing();
