# The morgenmigrate.progress view, seen from a second session: with the
# library in shared_preload_libraries, a row per running migrate_apply,
# migrate_run and rollback with its directory, files done and total, file,
# line, command and state: running a long statement, waiting for a lock
# (and for whom), sleeping between retries; for a concurrent index build
# in migrate_run's worker, the worker and the phase and blocks of
# pg_stat_progress_create_index, or of the call's own backend for an index
# it builds itself.  A rehearsal and migrate_run_rollback
# show as such; a migration that calls migrate_apply itself shows once, as
# the outer call; a call waiting for the migration lock shows, its files
# not yet counted.  Another role sees the details of its own
# calls only, unless it has pg_read_all_stats.  Without preloading, the
# view is empty and says why once per session.  Nothing here is timed: the
# test waits until the view shows what a session holds it at.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../perl";
use MorgenmigrateTest qw(write_set);

my $node = PostgreSQL::Test::Cluster->new('progress');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'morgenmigrate'\n");
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION morgenmigrate;
	CREATE TABLE busy (id int PRIMARY KEY);
	INSERT INTO busy SELECT g FROM generate_series(1, 50000) g;
	-- an index expression that waits for an advisory lock the test holds
	CREATE FUNCTION held(i int) RETURNS int IMMUTABLE LANGUAGE plpgsql AS $$
	BEGIN
		PERFORM pg_advisory_lock_shared(4242);
		PERFORM pg_advisory_unlock_shared(4242);
		RETURN i;
	END $$;
	CREATE ROLE watcher LOGIN;
	GRANT USAGE ON SCHEMA morgenmigrate TO watcher;
	GRANT SELECT ON morgenmigrate.progress TO watcher;
	GRANT EXECUTE ON FUNCTION morgenmigrate.progress_slots() TO watcher;
	-- a role that watches others' calls without pg_read_all_stats
	CREATE ROLE outsider LOGIN;
	GRANT USAGE ON SCHEMA morgenmigrate TO outsider;
	GRANT SELECT ON morgenmigrate.progress TO outsider;
	GRANT EXECUTE ON FUNCTION morgenmigrate.progress_slots() TO outsider;
});

# What the outsider sees of every call: its pid, database, operation and
# state, and no details (not whom a call waits for either).
sub outsider_sees
{
	return $node->safe_psql('postgres', q{
		SELECT string_agg(database || '|' || operation || '|' || state || '|'
		    || coalesce(directory, '-') || '|' || coalesce(filename, '-') || '|'
		    || coalesce(waiting_for_pid::text, '-') || '|' || coalesce(worker_pid::text, '-'), ',')
		  FROM morgenmigrate.progress},
		extra_params => [ '-U', 'outsider' ]);
}

my $base = PostgreSQL::Test::Utils::tempdir();
my $waits = write_set("$base/waits",
	'001_first.sql' => "SELECT 1;\n",
	'002_count_busy.sql' => "-- morgenmigrate: lock_timeout=0\nCREATE TABLE seen (n int);\n\n"
	  . "INSERT INTO seen SELECT count(*) FROM busy;\n",
	'003_last.sql' => "SELECT 3;\n");
my $long = write_set("$base/long",
	'001_sleep.sql' => "-- a long statement\nSELECT pg_sleep(600);\n");
my $retries = write_set("$base/retries",
	'001_alter_busy.sql' => "-- morgenmigrate: lock_timeout=50ms retries=20\n"
	  . "ALTER TABLE busy ADD COLUMN note text;\n");
my $index = write_set("$base/index",
	'001_index_busy.sql' => "CREATE INDEX CONCURRENTLY busy_held ON busy (held(id));\n");

# Polls the view (as the test's superuser) until the query over it is true.
sub view_shows
{
	my ($query, $what) = @_;
	ok($node->poll_query_until('postgres', $query), $what);
}

# Starts a call in a session of its own; returns the session.
sub start_call
{
	my ($sql) = @_;
	my $session = $node->background_psql('postgres', on_error_stop => 0);
	$session->query_until(qr/started/, "\\echo started\n$sql;\n");
	return $session;
}

my $holder = $node->background_psql('postgres');
my $holder_pid = $holder->query_safe('SELECT pg_backend_pid()');

# waiting for a lock: the file, line and command, and whom it waits for
$holder->query_safe('BEGIN; LOCK TABLE busy IN ACCESS EXCLUSIVE MODE');
my $call = start_call("SELECT * FROM morgenmigrate.migrate_apply('$waits')");
view_shows("SELECT state = 'waiting for lock' FROM morgenmigrate.progress",
	'waiting for a lock: the view says so');
is($node->safe_psql('postgres', q{
	SELECT database || '|' || operation || '|' || files_done || '|' || files_total || '|'
	  || filename || '|' || line || '|' || command || '|' || waiting_for_pid || '|'
	  || (file_started_at >= started_at) || '|' || (pid = (SELECT pid FROM pg_stat_activity
	       WHERE query LIKE 'morgenmigrate: running%'))
	FROM morgenmigrate.progress}),
	"postgres|migrate_apply|1|3|002_count_busy.sql|4|INSERT|$holder_pid|true|true",
	'the call, its file, line and command, and the session it waits for');
is($node->safe_psql('postgres', 'SELECT directory FROM morgenmigrate.progress'),
	$waits, 'the directory');

# another role sees that it runs, and its details only with pg_read_all_stats
is($node->safe_psql('postgres',
		'SELECT operation || coalesce(filename, \'-\') FROM morgenmigrate.progress',
		extra_params => [ '-U', 'watcher' ]),
	'migrate_apply-', "another role's call shows without its details");
is(outsider_sees(), 'postgres|migrate_apply|waiting for lock|-|-|-|-',
	'a role without pg_read_all_stats sees its state, waiting for lock, and nothing more');
$node->safe_psql('postgres', 'GRANT pg_read_all_stats TO watcher');
is($node->safe_psql('postgres',
		'SELECT filename FROM morgenmigrate.progress',
		extra_params => [ '-U', 'watcher' ]),
	'002_count_busy.sql', 'and with them with pg_read_all_stats');

$holder->query_safe('COMMIT');
$call->quit;
view_shows('SELECT count(*) = 0 FROM morgenmigrate.progress',
	'the call ended: its row is gone');
is($node->safe_psql('postgres', 'SELECT count(*) FROM morgenmigrate.schema_migrations'),
	'3', 'and it applied');

# a long statement: running, at its line
$call = start_call("CALL morgenmigrate.migrate_run('$long')");
view_shows("SELECT state = 'running' AND command = 'SELECT' AND line = 2 "
	  . "AND operation = 'migrate_run' AND filename = '001_sleep.sql' FROM morgenmigrate.progress",
	'a long statement: running, with its file, line and command');
$node->safe_psql('postgres',
	'SELECT pg_cancel_backend(pid) FROM morgenmigrate.progress');
view_shows('SELECT count(*) = 0 FROM morgenmigrate.progress',
	'a cancelled call leaves no row');
$call->quit;

# between retries after a lock timeout: sleeping
$holder->query_safe('BEGIN; LOCK TABLE busy IN ACCESS SHARE MODE');
$call = start_call("SELECT * FROM morgenmigrate.migrate_apply('$retries')");
view_shows("SELECT state = 'sleeping between retries' FROM morgenmigrate.progress",
	'between retries: sleeping');
$holder->query_safe('COMMIT');
view_shows('SELECT count(*) = 0 FROM morgenmigrate.progress',
	'the retried call ended');
$call->quit;
is($node->safe_psql('postgres',
		"SELECT count(*) FROM pg_attribute WHERE attrelid = 'busy'::regclass AND attname = 'note'"),
	'1', 'and applied once the lock was free');

# a rollback shows too
$holder->query_safe('BEGIN; LOCK TABLE busy IN ACCESS SHARE MODE');
PostgreSQL::Test::Utils::append_to_file("$retries/001_alter_busy.down.sql",
	"-- morgenmigrate: lock_timeout=0\nALTER TABLE busy DROP COLUMN note;\n");
$call = start_call("SELECT * FROM morgenmigrate.migrate_rollback('$retries')");
view_shows("SELECT operation = 'migrate_rollback' AND state = 'waiting for lock' "
	  . "AND filename = '001_alter_busy.down.sql' FROM morgenmigrate.progress",
	'a rollback: its down file');
$holder->query_safe('COMMIT');
view_shows('SELECT count(*) = 0 FROM morgenmigrate.progress', 'the rollback ended');
$call->quit;

# a rehearsal and migrate_run_rollback show as such
my $dry = write_set("$base/dry",
	'001_dry.sql' => "-- morgenmigrate: lock_timeout=0\nALTER TABLE busy ADD COLUMN dry text;\n");
$holder->query_safe('BEGIN; LOCK TABLE busy IN ACCESS SHARE MODE');
$call = start_call("SELECT * FROM morgenmigrate.migrate_apply('$dry', dry_run => true)");
view_shows("SELECT operation = 'migrate_apply (dry run)' AND state = 'waiting for lock' "
	  . "AND filename = '001_dry.sql' AND directory = '$dry' FROM morgenmigrate.progress",
	'a rehearsal: migrate_apply (dry run), its file');
$holder->query_safe('COMMIT');
view_shows('SELECT count(*) = 0 FROM morgenmigrate.progress', 'the rehearsal ended');
$call->quit;
is($node->safe_psql('postgres',
		"SELECT count(*) FROM pg_attribute WHERE attrelid = 'busy'::regclass AND attname = 'dry'"),
	'0', 'and left nothing');
$node->safe_psql('postgres', "SELECT * FROM morgenmigrate.migrate_apply('$retries')");
$holder->query_safe('BEGIN; LOCK TABLE busy IN ACCESS SHARE MODE');
$call = start_call("CALL morgenmigrate.migrate_run_rollback('$retries')");
view_shows("SELECT operation = 'migrate_run_rollback' AND state = 'waiting for lock' "
	  . "AND filename = '001_alter_busy.down.sql' FROM morgenmigrate.progress",
	'migrate_run_rollback: its down file');
$holder->query_safe('COMMIT');
view_shows('SELECT count(*) = 0 FROM morgenmigrate.progress', 'migrate_run_rollback ended');
$call->quit;

# a migration that calls migrate_apply itself shows once, as the outer call
my $outer = write_set("$base/outer",
	'001_outer.sql' => "SELECT count(*) FROM morgenmigrate.migrate_apply('$dry');\n");
$holder->query_safe('BEGIN; LOCK TABLE busy IN ACCESS SHARE MODE');
$call = start_call("CALL morgenmigrate.migrate_run('$outer')");
ok($node->poll_query_until('postgres', q{
	SELECT count(*) > 0 FROM pg_locks WHERE relation = 'busy'::regclass AND NOT granted}),
	'the inner call waits for the lock');
is($node->safe_psql('postgres', q{
	SELECT string_agg(operation || '|' || directory || '|' || filename, ',') FROM morgenmigrate.progress}),
	"migrate_run|$outer|001_outer.sql", 'the view shows the outer call, once');
$holder->query_safe('COMMIT');
view_shows('SELECT count(*) = 0 FROM morgenmigrate.progress', 'the outer call ended');
$call->quit;
$node->safe_psql('postgres', "ALTER TABLE busy DROP COLUMN dry");

# a call shows from its start, its wait for the migration lock included:
# its files are not counted yet (files_total NULL until the preflight),
# and it waits for the session holding the lock
my $mlock = write_set("$base/mlock", '001_one.sql' => "SELECT 1;\n");
$holder->query_safe('SELECT pg_advisory_lock(7885647260957961581)');
$call = start_call("SELECT * FROM morgenmigrate.migrate_apply('$mlock')");
view_shows("SELECT state = 'waiting for lock' FROM morgenmigrate.progress",
	'waiting for the migration lock: the view shows the call');
is($node->safe_psql('postgres', q{
	SELECT operation || '|' || files_done || '|' || coalesce(files_total::text, 'NULL') || '|'
	  || coalesce(filename, 'NULL') || '|' || waiting_for_pid FROM morgenmigrate.progress}),
	"migrate_apply|0|NULL|NULL|$holder_pid",
	'no files counted yet, waiting for the session that holds the migration lock');
is(outsider_sees(), 'postgres|migrate_apply|waiting for lock|-|-|-|-',
	'a role without pg_read_all_stats sees that it waits for a lock');
$holder->query_safe('SELECT pg_advisory_unlock(7885647260957961581)');
view_shows('SELECT count(*) = 0 FROM morgenmigrate.progress', 'the call ended');
$call->quit;

# an index built by the call's own backend (not concurrently, in
# migrate_apply, waiting without a lock timeout): the phase is that
# backend's, and there is no worker
my $plain_index = write_set("$base/plain_index",
	'001_plain_index.sql' => "-- morgenmigrate: lock_timeout=0\nCREATE INDEX busy_held_plain ON busy (held(id));\n");
$holder->query_safe('SELECT pg_advisory_lock(4242)');
$call = start_call("SELECT * FROM morgenmigrate.migrate_apply('$plain_index')");
view_shows("SELECT index_phase = 'building index: scanning table' FROM morgenmigrate.progress",
	'an index built by the call itself: its phase');
is($node->safe_psql('postgres', q{
	SELECT operation || '|' || command || '|' || state || '|' || coalesce(worker_pid::text, '-') || '|'
	  || (index_blocks_total > 0) FROM morgenmigrate.progress}),
	'migrate_apply|CREATE INDEX|waiting for lock|-|true',
	'its command, its wait, no worker, and the blocks of the table');
$holder->query_safe('SELECT pg_advisory_unlock(4242)');
view_shows('SELECT count(*) = 0 FROM morgenmigrate.progress', 'the build ended');
$call->quit;
$node->safe_psql('postgres', q{
	DROP INDEX busy_held_plain;
	DELETE FROM morgenmigrate.schema_migrations WHERE filename = '001_plain_index.sql'});

# a concurrent index build in migrate_run's worker: the worker, the phase
# and the blocks of pg_stat_progress_create_index
$holder->query_safe('SELECT pg_advisory_lock(4242)');
$call = start_call("CALL morgenmigrate.migrate_run('$index')");
view_shows("SELECT index_phase = 'building index: scanning table' FROM morgenmigrate.progress",
	'a concurrent index build: its phase');
is($node->safe_psql('postgres', q{
	SELECT operation || '|' || command || '|' || state || '|' || waiting_for_pid || '|'
	  || (index_blocks_total > 0) || '|' || (index_blocks_done <= index_blocks_total) || '|'
	  || (worker_pid = (SELECT pid FROM pg_stat_activity WHERE backend_type = 'morgenmigrate worker'))
	FROM morgenmigrate.progress}),
	"migrate_run|CREATE INDEX|waiting for lock|$holder_pid|true|true|true",
	"the worker, the blocks of the table, and the lock its build waits for");
is($node->safe_psql('postgres', 'SELECT state FROM morgenmigrate.progress_slots()'),
	'building index', 'the call itself says it builds an index');
is(outsider_sees(), 'postgres|migrate_run|waiting for lock|-|-|-|-',
	'a role without pg_read_all_stats sees that its worker waits for a lock, and nothing more');
$holder->query_safe('SELECT pg_advisory_unlock(4242)');
view_shows('SELECT count(*) = 0 FROM morgenmigrate.progress', 'the build ended');
$call->quit;
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_indexes WHERE indexname = 'busy_held'"),
	'1', 'and the index is there');
$holder->quit;

# without shared_preload_libraries: empty, and a NOTICE on first use
$node->append_conf('postgresql.conf', "shared_preload_libraries = ''\n");
$node->restart;
my ($rc, $out, $err) = $node->psql('postgres',
	'SELECT count(*) FROM morgenmigrate.progress; SELECT count(*) FROM morgenmigrate.progress');
is($out, "0\n0", 'without preloading the view is empty');
my @notices = $err =~ /NOTICE:  morgenmigrate\.progress is empty because morgenmigrate is not in shared_preload_libraries/g;
is(scalar(@notices), 1, 'and says why, once per session');
like($err, qr/HINT:  Add morgenmigrate to shared_preload_libraries/, 'with a hint');
$node->safe_psql('postgres', "SELECT * FROM morgenmigrate.migrate_apply('$retries')");
is($node->safe_psql('postgres',
		"SELECT count(*) FROM pg_attribute WHERE attrelid = 'busy'::regclass AND attname = 'note' AND NOT attisdropped"),
	'1', 'migrations run as before without it');

$node->stop;
done_testing();
