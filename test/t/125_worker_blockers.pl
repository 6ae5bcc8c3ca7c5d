# Who blocked a statement that migrate_run ran in its background worker
# (CREATE INDEX CONCURRENTLY), when the worker's lock wait ended in the
# file's lock_timeout: named as for the statements the caller runs itself,
# in each retry's NOTICE, in the final error, in
# morgenmigrate.migration_errors.blockers and in migrate_status's error.
# Two waits of an index build: for the table's lock (a session holding
# SHARE on it), and for the transactions that write the table (the build
# waits for each to end: a session with an update open).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../perl";
use MorgenmigrateTest qw(write_set);

my $node = PostgreSQL::Test::Cluster->new('worker_blockers');
$node->init;
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION morgenmigrate;
	CREATE TABLE busy (id int PRIMARY KEY, v int);
	INSERT INTO busy SELECT g, g FROM generate_series(1, 1000) g;
});

my $base = PostgreSQL::Test::Utils::tempdir();
my $retry = write_set("$base/retry",
	'001_busy_v.sql' => "-- morgenmigrate: lock_timeout=200ms retries=1\n"
	  . "CREATE INDEX CONCURRENTLY busy_v ON busy (v);\n");
my $writers = write_set("$base/writers",
	'001_busy_v.sql' => "-- morgenmigrate: lock_timeout=200ms retries=0\n"
	  . "CREATE INDEX CONCURRENTLY busy_v ON busy (v);\n");

my $holder = $node->background_psql('postgres');
$holder->query_safe("SET application_name = 'nightly report'");
my $holder_pid = $holder->query_safe('SELECT pg_backend_pid()');

# the table's lock: SHARE conflicts with the build's SHARE UPDATE EXCLUSIVE
$holder->query_safe('BEGIN');
$holder->query_safe('LOCK TABLE busy IN SHARE MODE');
my $who = qr/pid $holder_pid \(application "nightly report", user "[^"]+", idle in transaction, transaction open \d\d:\d\d:\d\d\): LOCK TABLE busy IN SHARE MODE/;

my ($rc, $out, $err) = $node->psql('postgres', "CALL morgenmigrate.migrate_run('$retry')");
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
		"SELECT error FROM morgenmigrate.migrate_status('$retry')"),
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
