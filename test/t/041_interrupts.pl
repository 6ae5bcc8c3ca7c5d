# A migration interrupted in the middle: the backend
# running migrate_apply is cancelled, terminated, killed with SIGKILL, or
# runs out of statement_timeout while a file sleeps.  Each time the history
# and the schema show nothing of that call, the server accepts connections,
# a cancelled session stays usable, and the next apply succeeds.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('interrupts');
$node->init;
# the TAP default is off; a crashed backend must not take the server down
$node->append_conf('postgresql.conf', "restart_after_crash = on\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION morgenmigrate');

# 002 sleeps as long as the session's mmtest.sleep says (not at all when
# unset), so the same directory serves the interrupted and the clean runs
my $dir = PostgreSQL::Test::Utils::tempdir();
PostgreSQL::Test::Utils::append_to_file("$dir/001_create_int_before.sql",
	"CREATE TABLE int_before (id integer);\n");
PostgreSQL::Test::Utils::append_to_file("$dir/002_create_int_during_then_sleep.sql",
	"CREATE TABLE int_during (id integer);\n"
	  . "INSERT INTO int_during VALUES (1);\n"
	  . "SELECT pg_sleep(coalesce(current_setting('mmtest.sleep', true), '0')::float8);\n");
PostgreSQL::Test::Utils::append_to_file("$dir/003_create_int_after.sql",
	"CREATE TABLE int_after (id integer);\n");

# a file whose own directive limits it to 300ms
my $tdir = PostgreSQL::Test::Utils::tempdir();
PostgreSQL::Test::Utils::append_to_file("$tdir/001_create_tmo_table.sql",
	"CREATE TABLE tmo_table (id integer);\n");
PostgreSQL::Test::Utils::append_to_file("$tdir/002_sleep_past_own_statement_timeout.sql",
	"-- morgenmigrate: statement_timeout=300ms\n"
	  . "SELECT 1;\nSELECT pg_sleep(60);\n");

my $apply = "SELECT filename, status FROM morgenmigrate.migrate_apply('$dir')";

# Asserts that no trace of a call is left: no history, no recorded failure,
# none of the tables, nobody holding the advisory lock or shown as running.
sub nothing_changed
{
	my ($what) = @_;
	is( $node->safe_psql('postgres', q{
			SELECT (SELECT count(*) FROM morgenmigrate.schema_migrations) || ',' ||
			       (SELECT count(*) FROM morgenmigrate.migration_errors) || ',' ||
			       (SELECT count(*) FROM pg_class
			         WHERE relname IN ('int_before', 'int_during', 'int_after', 'tmo_table')) || ',' ||
			       (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory')}),
		'0,0,0,0',
		"$what: no history row, no recorded failure, no table, no advisory lock");
}

# Asserts that the next apply of the directory succeeds, then resets.
sub next_apply_succeeds
{
	my ($what) = @_;
	is($node->safe_psql('postgres', "SELECT string_agg(filename, ',') FROM ($apply) a"),
		'001_create_int_before.sql,002_create_int_during_then_sleep.sql,003_create_int_after.sql',
		"$what: the next apply applies all three files");
	$node->safe_psql('postgres', q{
		DROP TABLE int_before, int_during, int_after;
		TRUNCATE morgenmigrate.schema_migrations});
}

# Starts a psql session that sleeps in 002, waits until 002 runs, and
# returns the session and its backend's pid.
sub start_sleeping_call
{
	my ($call) = @_;
	my $s = $node->background_psql('postgres', on_error_stop => 0);
	$s->query_safe("\\set VERBOSITY verbose\nSET mmtest.sleep = 300");
	$s->{stderr} = '';
	my $pid = $s->query_safe('SELECT pg_backend_pid()');
	$s->{stdin} .= "$call;\n";
	$s->{run}->pump_nb;
	ok( $node->poll_query_until('postgres', qq{
			SELECT query FROM pg_stat_activity
			 WHERE pid = $pid AND wait_event = 'PgSleep'},
			'morgenmigrate: running "002_create_int_during_then_sleep.sql" (2 of 3)'),
		'pg_stat_activity shows the sleeping file running, 2 of 3, in its pg_sleep');
	return ($s, $pid);
}

# Waits for the session's current call to end; returns what it printed on
# stderr.  A session whose backend is gone may end psql too.
sub finish_call
{
	my ($s) = @_;
	my ($out, $err) = eval { $s->query('SELECT 1 AS still_usable') };
	my $stderr = $s->{stderr};
	$s->{stderr} = '';
	return ($out // '', $stderr);
}

# pg_cancel_backend: 57014, the session stays usable
{
	my ($s, $pid) = start_sleeping_call($apply);
	$node->safe_psql('postgres', "SELECT pg_cancel_backend($pid)");
	my ($out, $err) = finish_call($s);
	like($err, qr/ERROR:  57014: canceling statement due to user request/,
		'cancel: the call fails with 57014');
	like($err, qr/CONTEXT:  migration "002_create_int_during_then_sleep.sql", line 3/,
		'cancel: the error names the file and line');
	is($out, '1', 'cancel: the cancelled session runs the next query');
	is($s->query_safe('SHOW mmtest.sleep'), '300',
		'cancel: the session keeps its own settings');
	$s->quit;
	nothing_changed('cancel');
	next_apply_succeeds('cancel');
}

# pg_cancel_backend in a non-atomic call: still re-thrown, nothing recorded
{
	my ($s, $pid) = start_sleeping_call(
		"SELECT filename, status FROM morgenmigrate.migrate_apply('$dir', atomic => false)");
	$node->safe_psql('postgres', "SELECT pg_cancel_backend($pid)");
	my ($out, $err) = finish_call($s);
	like($err, qr/ERROR:  57014: canceling statement due to user request/,
		'cancel, non-atomic: the cancel is raised, not recorded as a failed file');
	is($out, '1', 'cancel, non-atomic: the session stays usable');
	$s->quit;
	nothing_changed('cancel, non-atomic');
}

# statement_timeout of the caller expiring in the middle of 002
{
	my $s = $node->background_psql('postgres', on_error_stop => 0);
	$s->query_safe("\\set VERBOSITY verbose\nSET mmtest.sleep = 300");
	$s->{stderr} = '';
	$s->query("SET statement_timeout = '3s';\n$apply;\nRESET statement_timeout");
	like($s->{stderr}, qr/ERROR:  57014: canceling statement due to statement timeout/,
		'statement_timeout: the call fails with 57014');
	# (on a very slow machine the timeout may already expire in 001)
	like($s->{stderr}, qr/CONTEXT:  migration "00[12]_[a-z_]+.sql", line \d+/,
		'statement_timeout: the error names the file and line');
	$s->{stderr} = '';
	is($s->query('SELECT 1'), '1', 'statement_timeout: the session stays usable');
	$s->quit;
	nothing_changed('statement_timeout');
	next_apply_succeeds('statement_timeout');
}

# a file's own statement_timeout directive expiring: the caller's setting is
# untouched and no timer is left behind for the caller's next statements
{
	my $s = $node->background_psql('postgres', on_error_stop => 0);
	$s->query_safe("\\set VERBOSITY verbose");
	$s->query("SELECT filename FROM morgenmigrate.migrate_apply('$tdir')");
	like($s->{stderr}, qr/ERROR:  57014: canceling statement due to statement timeout/,
		'directive statement_timeout: the call fails with 57014');
	like($s->{stderr}, qr/CONTEXT:  migration "002_sleep_past_own_statement_timeout.sql", line \d+/,
		'directive statement_timeout: the error names the file and line');
	$s->{stderr} = '';
	is($s->query('SHOW statement_timeout'), '0',
		"directive statement_timeout: the caller's statement_timeout is unchanged");
	is($s->query("SELECT 'slept' FROM pg_sleep(0.6)"), 'slept',
		'directive statement_timeout: no timer is left to cancel the next statement');
	is($s->{stderr}, '', 'directive statement_timeout: nothing else went wrong');
	$s->quit;
	nothing_changed('directive statement_timeout');
}

# pg_terminate_backend: the session ends, the server does not
{
	my ($s, $pid) = start_sleeping_call($apply);
	$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
	eval { $s->{run}->finish };
	like($s->{stderr}, qr/FATAL:  57P01: terminating connection due to administrator command/,
		'terminate: the session ends with 57P01');
	nothing_changed('terminate');
	next_apply_succeeds('terminate');
}

# pg_terminate_backend under a short lock timeout: the timer that notes
# what a statement waits for fires every millisecond, and one that fired
# after the ending backend gave up its PGPROC crashed it (signal 11, and
# the server restarted), now and then: twenty times, none does
{
	my $logstart = -s $node->logfile;
	for my $i (1 .. 20)
	{
		my $s = $node->background_psql('postgres', on_error_stop => 0);
		$s->query_safe("SET mmtest.sleep = 300;\nSET morgenmigrate.lock_timeout = '2ms'");
		my $pid = $s->query_safe('SELECT pg_backend_pid()');
		$s->{stdin} .= "$apply;\n";
		$s->{run}->pump_nb;
		$node->poll_query_until('postgres', qq{
			SELECT count(*) FROM pg_stat_activity
			 WHERE pid = $pid AND wait_event = 'PgSleep'}, '1')
		  or last;
		$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
		eval { $s->{run}->finish };
	}
	unlike(slurp_file($node->logfile, $logstart), qr/terminated by signal/,
		'terminate under a 2ms lock timeout, 20 times: no backend crashed on its way out');
	nothing_changed('terminate under a 2ms lock timeout');
}

# After backend PID was killed with SIGKILL (the log LOGSTART bytes long
# before): waits until the postmaster saw it die, then until it recovered,
# then until the server takes connections.  In that order: a connection
# taken before the postmaster handles the death would prove nothing, and
# it happened (on 18 under load the query ran before the crash was seen).
sub crash_recovered
{
	my ($pid, $logstart, $what) = @_;
	# "server process" up to 17, the process type ("client backend") in 18
	my $killed = qr/(?:server process|client backend) \(PID $pid\) was terminated by signal 9/;
	ok(defined eval { $node->wait_for_log($killed, $logstart) },
		"$what: the postmaster saw the backend killed");
	# (wait_for_log returns where the log ended, not where it matched)
	ok(defined eval {
			$node->wait_for_log(qr/$killed.*database system is ready to accept connections/s,
				$logstart);
		},
		"$what: the server recovered");
	# (a psql started while the server is still down may exit before it
	# reads its query: the harness dies of the broken pipe, so poll again)
	my $up = 0;
	for (1 .. 60)
	{
		$up = eval { $node->poll_query_until('postgres', 'SELECT true') };
		last if $up;
		sleep 1;
	}
	ok($up, "$what: the server accepts connections again");
}

# SIGKILL: the postmaster restarts every backend and recovers
{
	my ($s, $pid) = start_sleeping_call($apply);
	my $logstart = -s $node->logfile;
	kill 'KILL', $pid;
	eval { $s->{run}->finish };
	crash_recovered($pid, $logstart, 'SIGKILL');
	nothing_changed('SIGKILL');
	next_apply_succeeds('SIGKILL');
}

# migrate_run (commits per file) cancelled in 002: 001 stays committed,
# 002 leaves nothing, the session-level lock is released, the session is
# usable and a second run finishes the job
{
	my ($s, $pid) = start_sleeping_call("CALL morgenmigrate.migrate_run('$dir')");
	$node->safe_psql('postgres', "SELECT pg_cancel_backend($pid)");
	my ($out, $err) = finish_call($s);
	like($err, qr/ERROR:  57014: canceling statement due to user request/,
		'migrate_run cancel: the call fails with 57014');
	is($out, '1', 'migrate_run cancel: the session stays usable');
	is( $node->safe_psql('postgres', q{
			SELECT string_agg(filename, ','),
			       (SELECT count(*) FROM pg_class WHERE relname IN ('int_during', 'int_after')),
			       (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory')
			  FROM morgenmigrate.schema_migrations}),
		'001_create_int_before.sql|0|0',
		'migrate_run cancel: 001 stays applied, 002 left nothing, the lock is free');
	$s->query_safe('SET mmtest.sleep = 0');
	$s->query_safe("CALL morgenmigrate.migrate_run('$dir')");
	is($node->safe_psql('postgres', 'SELECT count(*) FROM morgenmigrate.schema_migrations'),
		'3', 'migrate_run cancel: the same session runs the rest');
	$s->quit;
	$node->safe_psql('postgres', q{
		DROP TABLE int_before, int_during, int_after;
		TRUNCATE morgenmigrate.schema_migrations});
}

# migrate_run killed with SIGKILL in 002: 001 survives crash recovery
{
	my ($s, $pid) = start_sleeping_call("CALL morgenmigrate.migrate_run('$dir')");
	my $logstart = -s $node->logfile;
	kill 'KILL', $pid;
	eval { $s->{run}->finish };
	crash_recovered($pid, $logstart, 'migrate_run SIGKILL');
	is( $node->safe_psql('postgres', q{
			SELECT string_agg(filename, ','),
			       (SELECT count(*) FROM pg_class WHERE relname IN ('int_during', 'int_after'))
			  FROM morgenmigrate.schema_migrations}),
		'001_create_int_before.sql|0',
		'migrate_run SIGKILL: the committed file survives, the killed one left nothing');
	is($node->safe_psql('postgres', "SELECT count(*) FROM ($apply) a"), '2',
		'migrate_run SIGKILL: the next apply applies the other two');
}

$node->stop;
done_testing();
