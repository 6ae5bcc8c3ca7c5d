# Interrupting migrate_run while a background worker builds an index
# concurrently: cancelling the caller, the caller's
# statement_timeout and pg_terminate_backend of the caller each stop the
# worker (no orphan goes on building), leave the file out of the history,
# and the next run drops the INVALID index the interrupted build left and
# applies the set.  And a third session holding an old snapshot delays the
# build (the worker waits for its virtual transaction) without hanging it.
#
# The build is made slow by an index expression calling a function that
# sleeps for mmtest.sleep seconds per row: a setting of the caller's
# session, which the worker adopts; the clean runs leave it unset.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('toplevel_interrupts');
$node->init;
$node->start;

my $dir = PostgreSQL::Test::Utils::tempdir();
PostgreSQL::Test::Utils::append_to_file("$dir/001_create_big.sql", <<'EOF');
CREATE FUNCTION slow_key(integer) RETURNS integer
    LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    PERFORM pg_sleep(coalesce(nullif(current_setting('mmtest.sleep', true), ''), '0')::float8);
    RETURN $1;
END $$;
CREATE TABLE big (id integer PRIMARY KEY, payload text);
INSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, 200) g;
EOF
PostgreSQL::Test::Utils::append_to_file("$dir/002_slow_index.sql", <<'EOF');
CREATE TABLE IF NOT EXISTS slow_before (id integer);
SELECT pg_sleep(coalesce(nullif(current_setting('mmtest.pre', true), ''), '0')::float8);
CREATE INDEX CONCURRENTLY big_slow_idx ON big (slow_key(id));
CREATE TABLE slow_after (id integer);
EOF
PostgreSQL::Test::Utils::append_to_file("$dir/003_after.sql",
	"CREATE TABLE after_slow (id integer);\n");

my $call = "CALL morgenmigrate.migrate_run('$dir')";

# Each case gets a database of its own, with the extension.
sub new_db
{
	my ($db) = @_;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, 'CREATE EXTENSION morgenmigrate');
}

sub workers
{
	return $node->safe_psql('postgres', q{
		SELECT count(*) FROM pg_stat_activity
		 WHERE backend_type = 'morgenmigrate worker'
		    OR application_name = 'morgenmigrate worker'});
}

# Starts migrate_run in a new session of database $db with the given
# settings, and waits until its worker is in the middle of the slow build.
# Returns the session, the caller's pid and the worker's pid.
sub start_slow_build
{
	my ($db, $settings) = @_;
	my $s = $node->background_psql($db, on_error_stop => 0);
	$s->query_safe("\\set VERBOSITY verbose\n$settings");
	my $pid = $s->query_safe('SELECT pg_backend_pid()');
	$s->{stderr} = '';
	$s->{stdout} = '';
	$s->{stdin} .= "$call;\n\\echo call_done\n";
	$s->{run}->pump_nb;
	ok( $node->poll_query_until('postgres', q{
			SELECT count(*) FROM pg_stat_activity
			 WHERE backend_type = 'morgenmigrate worker' AND wait_event = 'PgSleep'
			   AND query ~ 'CREATE INDEX CONCURRENTLY big_slow_idx'}, '1'),
		"$db: the worker is building the index (sleeping in the index expression)");
	my $wpid = $node->safe_psql('postgres', q{
		SELECT pid FROM pg_stat_activity WHERE backend_type = 'morgenmigrate worker'});
	return ($s, $pid, $wpid);
}

# Waits (bounded) until no morgenmigrate worker is left, and asserts it.
sub no_worker_left
{
	my ($what) = @_;
	ok( $node->poll_query_until('postgres', q{
			SELECT count(*) FROM pg_stat_activity
			 WHERE backend_type = 'morgenmigrate worker'
			    OR application_name = 'morgenmigrate worker'}, '0'),
		"$what: no morgenmigrate worker is left in pg_stat_activity");
}

# The state after an interrupted build of 002: 001 applied, 002 and 003
# not, what 002 committed before the build there, nothing after it, and the
# INVALID index the build left.
sub interrupted_state
{
	my ($db, $what) = @_;
	is( $node->safe_psql($db, q{
			SELECT string_agg(filename, ',' ORDER BY filename) FROM morgenmigrate.schema_migrations}),
		'001_create_big.sql', "$what: only 001 is in the history, 002 is not");
	is( $node->safe_psql($db, q{
			SELECT (to_regclass('slow_before') IS NOT NULL) || ',' || (to_regclass('slow_after') IS NULL)
			    || ',' || (to_regclass('after_slow') IS NULL)}),
		'true,true,true',
		"$what: 002's statement before the build committed, nothing after the build ran");
	is( $node->safe_psql($db, q{
			SELECT indisvalid FROM pg_index WHERE indexrelid = 'big_slow_idx'::regclass}),
		'f', "$what: the interrupted build left an INVALID index");
	is($node->safe_psql($db, q{SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'}),
		'0', "$what: the session advisory lock is released");
}

# The next run, without the sleep: drops the INVALID index, builds it and
# applies the rest.
sub next_run_succeeds
{
	my ($db, $what) = @_;
	my ($out, $err) = ('', '');
	my $ret = $node->psql($db, $call, stdout => \$out, stderr => \$err);
	is($ret, 0, "$what: the next run succeeds") or diag($err);
	like($err, qr/NOTICE:  dropping invalid index public\.big_slow_idx\n/,
		"$what: the next run drops the INVALID index first");
	is( $node->safe_psql($db, q{
			SELECT indisvalid FROM pg_index WHERE indexrelid = 'big_slow_idx'::regclass}),
		't', "$what: the index is valid");
	is( $node->safe_psql($db, q{
			SELECT string_agg(filename, ',' ORDER BY filename) FROM morgenmigrate.schema_migrations}),
		'001_create_big.sql,002_slow_index.sql,003_after.sql',
		"$what: the history is complete");
	is($node->safe_psql($db, 'SELECT count(*) FROM morgenmigrate.migration_errors'),
		'0', "$what: no failure is left recorded");
	is(workers(), '0', "$what: no worker is left after the next run");
}

#
# pg_cancel_backend of the caller
#
{
	new_db('cancel_db');
	my $logstart = -s $node->logfile;
	my ($s, $pid, $wpid) = start_slow_build('cancel_db', 'SET mmtest.sleep = 0.05');
	$node->safe_psql('postgres', "SELECT pg_cancel_backend($pid)");
	$s->{run}->pump until $s->{stdout} =~ /call_done/;
	like($s->{stderr}, qr/ERROR:  57014: canceling statement due to user request/,
		'cancel: the call fails with 57014');
	like($s->{stderr}, qr/CONTEXT:  migration "002_slow_index\.sql", line 3/,
		'cancel: the error names the file and the line of the build');
	no_worker_left('cancel');
	like(slurp_file($node->logfile, $logstart),
		qr/\[$wpid\].*FATAL:  terminating background worker "morgenmigrate worker[^"]*" due to administrator command/,
		'cancel: the caller terminated its worker');
	is( $node->safe_psql('cancel_db', q{
			SELECT filename || ':' || sqlstate || ':' || line FROM morgenmigrate.migration_errors}),
		'002_slow_index.sql:57014:3', 'cancel: the failure of 002 is recorded with its line');
	$s->{stderr} = '';
	$s->{stdout} = '';
	is($s->query('SELECT 1'), '1', 'cancel: the session stays usable');
	$s->quit;
	interrupted_state('cancel_db', 'cancel');
	next_run_succeeds('cancel_db', 'cancel');
}

#
# statement_timeout of the caller, expiring during the build: the file's
# statement before the build sleeps a second in the caller, so the
# caller's timeout expires a second before the worker's own
#
{
	new_db('timeout_db');
	my $logstart = -s $node->logfile;
	my ($s, $pid, $wpid) = start_slow_build('timeout_db',
		"SET mmtest.sleep = 0.05; SET mmtest.pre = 1; SET statement_timeout = '5s'");
	$s->{run}->pump until $s->{stdout} =~ /call_done/;
	like($s->{stderr}, qr/ERROR:  57014: canceling statement due to statement timeout/,
		'statement_timeout: the call fails with 57014');
	like($s->{stderr}, qr/CONTEXT:  migration "002_slow_index\.sql", line 3/,
		'statement_timeout: the error names the file and the line of the build');
	no_worker_left('statement_timeout');
	like(slurp_file($node->logfile, $logstart),
		qr/\[$wpid\].*FATAL:  terminating background worker "morgenmigrate worker[^"]*" due to administrator command/,
		'statement_timeout: the caller terminated its worker');
	is( $node->safe_psql('timeout_db', q{
			SELECT filename || ':' || sqlstate FROM morgenmigrate.migration_errors}),
		'002_slow_index.sql:57014', 'statement_timeout: the failure of 002 is recorded');
	$s->{stderr} = '';
	$s->{stdout} = '';
	is($s->query('SHOW statement_timeout'), '5s',
		'statement_timeout: the session keeps its setting and stays usable');
	$s->quit;
	interrupted_state('timeout_db', 'statement_timeout');
	next_run_succeeds('timeout_db', 'statement_timeout');
}

#
# pg_terminate_backend of the caller: its exit hook stops the worker
#
{
	new_db('terminate_db');
	my $logstart = -s $node->logfile;
	my ($s, $pid, $wpid) = start_slow_build('terminate_db', 'SET mmtest.sleep = 0.05');
	$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
	eval { $s->{run}->finish };
	like($s->{stderr}, qr/FATAL:  57P01: terminating connection due to administrator command/,
		'terminate: the caller ends with 57P01');
	no_worker_left('terminate');
	like(slurp_file($node->logfile, $logstart),
		qr/\[$wpid\].*FATAL:  terminating background worker "morgenmigrate worker[^"]*" due to administrator command/,
		'terminate: the dying caller terminated its worker');
	is($node->safe_psql('terminate_db', 'SELECT count(*) FROM morgenmigrate.migration_errors'),
		'0', 'terminate: the dead caller recorded nothing half-way');
	interrupted_state('terminate_db', 'terminate');
	next_run_succeeds('terminate_db', 'terminate');
}

#
# A third session holding an old snapshot delays the build, and the run
# finishes once that session commits
#
{
	new_db('snapshot_db');
	$node->safe_psql('snapshot_db', 'CREATE TABLE unrelated (id integer); INSERT INTO unrelated VALUES (1)');
	my $holder = $node->background_psql('snapshot_db');
	$holder->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
	$holder->query_safe('SELECT count(*) FROM unrelated');
	my $hpid = $holder->query_safe('SELECT pg_backend_pid()');

	my $s = $node->background_psql('snapshot_db', on_error_stop => 0);
	my $pid = $s->query_safe('SELECT pg_backend_pid()');
	$s->{stderr} = '';
	$s->{stdout} = '';
	$s->{stdin} .= "$call;\n\\echo call_done\n";
	$s->{run}->pump_nb;

	ok( $node->poll_query_until('postgres', qq{
			SELECT count(*) FROM pg_stat_activity
			 WHERE backend_type = 'morgenmigrate worker'
			   AND wait_event_type = 'Lock' AND wait_event = 'virtualxid'
			   AND query ~ 'CREATE INDEX CONCURRENTLY big_slow_idx'
			   AND $hpid = ANY (pg_blocking_pids(pid))}, '1'),
		'old snapshot: the worker waits for the virtual transaction of the session holding it');
	is( $node->safe_psql('postgres', qq{
			SELECT wait_event_type || ':' || wait_event || ':' || (backend_xmin IS NULL)
			  FROM pg_stat_activity WHERE pid = $pid}),
		'IPC:MessageQueueReceive:true',
		'old snapshot: the caller waits for its worker, holding no snapshot');
	is( $node->safe_psql('snapshot_db', q{
			SELECT string_agg(filename, ',' ORDER BY filename) FROM morgenmigrate.schema_migrations}),
		'001_create_big.sql', 'old snapshot: 002 is not recorded while its build waits');

	$holder->query_safe('COMMIT');
	$holder->quit;
	$s->{run}->pump until $s->{stdout} =~ /call_done/;
	is($s->{stderr}, '', 'old snapshot: once it is released, the run finishes without error');
	$s->quit;
	is( $node->safe_psql('snapshot_db', q{
			SELECT indisvalid FROM pg_index WHERE indexrelid = 'big_slow_idx'::regclass}),
		't', 'old snapshot: the index is valid');
	is( $node->safe_psql('snapshot_db', q{
			SELECT string_agg(filename, ',' ORDER BY filename) FROM morgenmigrate.schema_migrations}),
		'001_create_big.sql,002_slow_index.sql,003_after.sql',
		'old snapshot: the history is complete');
	is(workers(), '0', 'old snapshot: no worker is left');
}

$node->stop;
done_testing();
