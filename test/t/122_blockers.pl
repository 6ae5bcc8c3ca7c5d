# Who blocked a migration whose lock wait ended in a lock timeout, named
# as of that timeout: pid, application_name, user, state, how long its
# transaction has been open and its query (cut to 200 characters).  In
# each retry's NOTICE, in the final error's detail, in
# morgenmigrate.migration_errors (a jsonb array, when the retries ran out)
# and in migrate_status's error for that file; for a table lock and for a
# row lock, with the file's lock_timeout or the caller's, for migrate_apply
# all-or-nothing and not, migrate_run and migrate_rollback; and for a
# statement migrate_run runs in its background worker (CREATE INDEX
# CONCURRENTLY), whose wait ends in the worker: for the table's lock, and
# for the transactions writing the table that an index build waits for.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../perl";
use MorgenmigrateTest qw(write_set);

my $node = PostgreSQL::Test::Cluster->new('blockers');
$node->init;
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION morgenmigrate;
	CREATE TABLE busy (id int PRIMARY KEY, v int);
	INSERT INTO busy SELECT g, g FROM generate_series(1, 1000) g;
});

my $base = PostgreSQL::Test::Utils::tempdir();
my $alter = write_set("$base/alter",
	'001_busy_note.sql' => "-- morgenmigrate: lock_timeout=100ms retries=2\n"
	  . "ALTER TABLE busy ADD COLUMN note text;\n",
	'001_busy_note.down.sql' => "-- morgenmigrate: lock_timeout=100ms retries=0\n"
	  . "ALTER TABLE busy DROP COLUMN note;\n");
my $no_retry = write_set("$base/no_retry",
	'001_busy_note.sql' => "-- morgenmigrate: lock_timeout=100ms retries=0\n"
	  . "ALTER TABLE busy ADD COLUMN note text;\n");
my $rows = write_set("$base/rows",
	'001_busy_fix.sql' => "-- morgenmigrate: lock_timeout=100ms retries=1\n"
	  . "UPDATE busy SET v = 0 WHERE id = 1;\n");
my $plain = write_set("$base/plain",
	'001_busy_note.sql' => "ALTER TABLE busy ADD COLUMN note text;\n");

# a long query, to be cut to 200 characters
my $long = "SELECT count(*) FROM busy WHERE '" . ('x' x 250) . "' <> ''";

my $holder = $node->background_psql('postgres');
$holder->query_safe("SET application_name = 'nightly report'");
my $holder_pid = $holder->query_safe('SELECT pg_backend_pid()');
$holder->query_safe('BEGIN');
$holder->query_safe($long);

my $who = qr/pid $holder_pid \(application "nightly report", user "[^"]+", idle in transaction, transaction open \d\d:\d\d:\d\d\): SELECT count\(\*\) FROM busy WHERE 'x{167}/;

# all or nothing, with retries: each retry's NOTICE and the error
my ($rc, $out, $err) = $node->psql('postgres',
	"SELECT * FROM morgenmigrate.migrate_apply('$alter')");
isnt($rc, 0, 'migrate_apply fails once its retries ran out');
like($err, qr/NOTICE:  migration "001_busy_note.sql" could not get a lock, retry 1 of 2\nDETAIL:  canceling statement due to lock timeout; the lock is held by $who/,
	'the first retry names the blocker');
like($err, qr/retry 2 of 2\nDETAIL:  canceling statement due to lock timeout; the lock is held by $who/,
	'and the second');
like($err, qr/ERROR:  canceling statement due to lock timeout\nDETAIL:  The lock was held by $who/,
	'the final error names it');

# all or nothing without retries, and the caller's own lock_timeout
($rc, $out, $err) = $node->psql('postgres',
	"SELECT * FROM morgenmigrate.migrate_apply('$no_retry')");
like($err, qr/DETAIL:  The lock was held by $who/, 'without retries, the error names it');
($rc, $out, $err) = $node->psql('postgres',
	"SET morgenmigrate.lock_timeout = 0; SET morgenmigrate.lock_retries = 0; SET lock_timeout = '150ms'; "
	  . "SELECT * FROM morgenmigrate.migrate_apply('$plain')");
like($err, qr/DETAIL:  The lock was held by $who/, "with the caller's lock_timeout, too");

# not atomic: the failure is recorded with its blockers; the server's
# clock around the call bounds how long the holder's transaction was open
# (which is more than a second, so that a zero would show)
$node->poll_query_until('postgres',
	"SELECT clock_timestamp() - xact_start > '1.5s' FROM pg_stat_activity WHERE pid = $holder_pid")
  or die "the holder's transaction is not a second old";
my $before = $node->safe_psql('postgres', 'SELECT clock_timestamp()');
($rc, $out, $err) = $node->psql('postgres',
	"SELECT status FROM morgenmigrate.migrate_apply('$alter', atomic => false)");
is($out, 'failed', 'atomic => false: the file fails');
my $after = $node->safe_psql('postgres', 'SELECT clock_timestamp()');
is($node->safe_psql('postgres', qq{
	SELECT date_trunc('second', '$before'::timestamptz - a.xact_start) <= o
	   AND o <= '$after'::timestamptz - a.xact_start
	FROM morgenmigrate.migration_errors e,
	     LATERAL (SELECT (e.blockers->0->>'transaction_open')::interval AS o) x,
	     pg_stat_activity a
	WHERE a.pid = $holder_pid}),
	't', "migration_errors.blockers: the holder's transaction was open as long as the clock says");
is($node->safe_psql('postgres', q{
	SELECT jsonb_array_length(blockers) || ' ' || (blockers->0->>'pid') || ' '
	  || (blockers->0->>'application_name') || ' ' || (blockers->0->>'state') || ' '
	  || (blockers->0->>'usename' = current_user) || ' '
	  || length(blockers->0->>'query') || ' ' || left(blockers->0->>'query', 25)
	FROM morgenmigrate.migration_errors}),
	"1 $holder_pid nightly report idle in transaction true 200 SELECT count(*) FROM busy",
	'migration_errors.blockers: pid, application, state, user, the query cut to 200 characters');
like($node->safe_psql('postgres',
		"SELECT error FROM morgenmigrate.migrate_status('$alter')"),
	qr/^55P03: canceling statement due to lock timeout \(line 2\)\. The lock was held by $who/,
	"migrate_status's error names the blocker");

# migrate_run records it the same way
$node->safe_psql('postgres', 'TRUNCATE morgenmigrate.migration_errors');
($rc, $out, $err) = $node->psql('postgres', "CALL morgenmigrate.migrate_run('$alter')");
like($err, qr/DETAIL:  The lock was held by $who/, 'migrate_run: the error names it');
is($node->safe_psql('postgres',
		"SELECT blockers->0->>'application_name' FROM morgenmigrate.migration_errors"),
	'nightly report', 'migrate_run: migration_errors has the blocker');

# a rollback's lock timeout names it too
$holder->query_safe('COMMIT');
$node->safe_psql('postgres', "SELECT * FROM morgenmigrate.migrate_apply('$alter')");
$holder->query_safe('BEGIN');
$holder->query_safe($long);
($rc, $out, $err) = $node->psql('postgres',
	"SELECT * FROM morgenmigrate.migrate_rollback('$alter')");
like($err, qr/DETAIL:  The lock was held by $who/, 'migrate_rollback: the error names it');
$holder->query_safe('COMMIT');
$node->safe_psql('postgres', "SELECT * FROM morgenmigrate.migrate_rollback('$alter')");

# a row lock: the transaction that holds the row
$holder->query_safe('BEGIN');
$holder->query_safe('SELECT * FROM busy WHERE id = 1 FOR UPDATE');
($rc, $out, $err) = $node->psql('postgres',
	"SELECT * FROM morgenmigrate.migrate_apply('$rows')");
like($err, qr/retry 1 of 1\nDETAIL:  canceling statement due to lock timeout; the lock is held by pid $holder_pid \(application "nightly report", [^)]*\): SELECT \* FROM busy WHERE id = 1 FOR UPDATE/,
	'a row lock: the session holding the row is named');
$holder->query_safe('COMMIT');

# without a blocker in the way, nothing to name: the run succeeds
$node->safe_psql('postgres', "SELECT * FROM morgenmigrate.migrate_apply('$rows')");
is($node->safe_psql('postgres', 'SELECT v FROM busy WHERE id = 1'), '0',
	'the row is updated once the lock is free');

# a statement run by migrate_run's background worker, whose lock_timeout
# (the file's) ends the wait in the worker
# the same index build, with one retry and with none
my ($retry, $writers) = map {
	write_set("$base/build_retries_$_", '001_busy_v.sql' =>
		"-- morgenmigrate: lock_timeout=200ms retries=$_\nCREATE INDEX CONCURRENTLY busy_v ON busy (v);\n")
} (1, 0);

# the table's lock: SHARE conflicts with the build's SHARE UPDATE EXCLUSIVE
$holder->query_safe('BEGIN');
$holder->query_safe('LOCK TABLE busy IN SHARE MODE');
$who = qr/pid $holder_pid \(application "nightly report", user "[^"]+", idle in transaction, transaction open \d\d:\d\d:\d\d\): LOCK TABLE busy IN SHARE MODE/;

$node->safe_psql('postgres', 'TRUNCATE morgenmigrate.migration_errors');
($rc, $out, $err) = $node->psql('postgres', "CALL morgenmigrate.migrate_run('$retry')");
isnt($rc, 0, 'migrate_run fails once the retries ran out');
like($err, qr/NOTICE:  migration "001_busy_v.sql" could not get a lock, retry 1 of 1\nDETAIL:  canceling statement due to lock timeout; the lock is held by $who/,
	"the retry's NOTICE names the session holding the table's lock");
like($err, qr/ERROR:  canceling statement due to lock timeout\nDETAIL:  The lock was held by $who/,
	'the final error names it');
like($node->safe_psql('postgres', q{
	SELECT jsonb_array_length(blockers) || ' ' || (blockers->0->>'pid') || ' '
	  || (blockers->0->>'application_name') || ' ' || (blockers->0->>'state') || ' '
	  || (blockers->0->>'usename' = current_user) || ' ' || (blockers->0->>'query')
	FROM morgenmigrate.migration_errors WHERE filename = '001_busy_v.sql'}),
	qr/^1 $holder_pid nightly report idle in transaction true LOCK TABLE busy IN SHARE MODE/,
	'migration_errors.blockers names it');
like($node->safe_psql('postgres',
		"SELECT error FROM morgenmigrate.migrate_status('$retry') WHERE filename = '001_busy_v.sql'"),
	qr/^55P03: canceling statement due to lock timeout \(line 2\)\. The lock was held by $who/,
	"migrate_status's error names it");
$holder->query_safe('COMMIT');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_index WHERE indrelid = 'busy'::regclass}),
	'1', 'no index was left behind');

# the writers the build waits for: an update still open
$node->safe_psql('postgres', 'TRUNCATE morgenmigrate.migration_errors');
$holder->query_safe('BEGIN');
$holder->query_safe('UPDATE busy SET v = v WHERE id = 1');
$who = qr/pid $holder_pid \(application "nightly report", user "[^"]+", idle in transaction, transaction open \d\d:\d\d:\d\d\): UPDATE busy SET v = v WHERE id = 1/;
($rc, $out, $err) = $node->psql('postgres', "CALL morgenmigrate.migrate_run('$writers')");
isnt($rc, 0, 'migrate_run fails');
like($err, qr/ERROR:  canceling statement due to lock timeout\nDETAIL:  The lock was held by $who/,
	'the error names the transaction the build waited for');
is($node->safe_psql('postgres',
		"SELECT blockers->0->>'pid' FROM morgenmigrate.migration_errors WHERE filename = '001_busy_v.sql'"),
	$holder_pid, 'and so does migration_errors');
$holder->query_safe('COMMIT');

# once nobody is in the way, the build runs (after dropping what the
# failed one left)
$node->safe_psql('postgres', "CALL morgenmigrate.migrate_run('$writers')");
is($node->safe_psql('postgres', q{SELECT indisvalid FROM pg_index WHERE indexrelid = 'busy_v'::regclass}),
	't', 'the index is built once the lock is free');

$holder->quit;
$node->stop;
done_testing();
