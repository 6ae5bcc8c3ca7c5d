# A file migrate_run runs statement by statement (it holds CREATE INDEX
# CONCURRENTLY) commits after each statement, yet its settings must end
# with the file like any file's: set_config(..., false), SET SESSION
# CHARACTERISTICS, RESET ALL and SET ROLE reach neither the next file nor
# the caller.  Every way such a file can fail (its own statement_timeout or
# a cancel while it waits to retry, a deferred constraint failing at the
# commit after a statement) ends the same way: the failure recorded with the
# file's line, the error raised with the migration's CONTEXT line, the
# caller's settings and role back.  And a client in another encoding gets
# the worker's error, not an encoding error.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../perl";
use MorgenmigrateTest qw(start_background finish_background superuser);

my $node = PostgreSQL::Test::Cluster->new('steps_settings');
# UTF8 whatever the caller's locale: a LATIN1 client of a UTF8 database
# gets its non-ASCII text converted
$node->init(extra => [ '--encoding=UTF8', '--locale=C' ]);
$node->start;

# Each case gets a database of its own, with the extension, a schema
# "elsewhere", and a role the files switch to.
$node->safe_psql('postgres', 'CREATE ROLE app_owner');
sub new_db
{
	my ($db) = @_;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, q{
		CREATE EXTENSION morgenmigrate;
		CREATE SCHEMA elsewhere;
		CREATE TABLE gadgets (id integer, code text);
		ALTER TABLE gadgets OWNER TO app_owner;
		GRANT ALL ON SCHEMA public TO app_owner;});
}

# The caller's session after the CALL: settings and role, one line.
my $show = q{SELECT concat_ws('|', current_user, current_setting('search_path'),
	current_setting('default_transaction_isolation'), current_setting('work_mem'),
	current_setting('lock_timeout'), current_setting('session_replication_role'),
	coalesce(current_setting('mmtest.flag', true), ''))};
my $caller_settings = "SET work_mem = '7MB';\n";
# (the caller is the cluster's superuser)
my $super = superuser();
my $caller_expected = qq{$super|"\$user", public|read committed|7MB|0|origin|};

#
# Settings of every kind end with the file
#
{
	new_db('leak_db');
	my $dir = PostgreSQL::Test::Utils::tempdir();
	PostgreSQL::Test::Utils::append_to_file("$dir/001_steps.sql", <<'EOF');
RESET ALL;
SELECT set_config('search_path', 'elsewhere, public', false);
SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL REPEATABLE READ;
SELECT set_config('mmtest.flag', 'leaked', false);
SET session_replication_role = replica;
SET ROLE app_owner;
CREATE INDEX CONCURRENTLY IF NOT EXISTS gadgets_code_idx ON gadgets (code);
EOF
	PostgreSQL::Test::Utils::append_to_file("$dir/002_next.sql", <<'EOF');
CREATE TABLE next_saw AS
    SELECT current_user::text AS usr, current_setting('search_path') AS search_path,
           current_setting('transaction_isolation') AS iso,
           current_setting('work_mem') AS work_mem,
           current_setting('session_replication_role') AS srr,
           coalesce(current_setting('mmtest.flag', true), '') AS flag;
EOF
	my ($out, $err) = ('', '');
	my $rc = $node->psql('leak_db',
		"${caller_settings}CALL morgenmigrate.migrate_run('$dir');\n$show",
		stdout => \$out, stderr => \$err, on_error_stop => 0);
	is($err, '', 'settings: the run succeeds');
	is($out, $caller_expected,
		'settings: the caller gets back its search_path, isolation, work_mem, role and no new setting');
	my $saw = '';
	$node->psql('leak_db', q{
			SELECT concat_ws('|', usr, search_path, iso, work_mem, srr, flag) FROM public.next_saw},
		stdout => \$saw);
	is( $saw,
		qq{$super|"\$user", public|read committed|7MB|origin|},
		'settings: the next file ran with the caller\'s settings, in the public schema');
	is( $node->safe_psql('leak_db', q{
			SELECT string_agg(filename, ',' ORDER BY filename) FROM morgenmigrate.schema_migrations}),
		'001_steps.sql,002_next.sql', 'settings: both files are applied');
}

# Runs $dir in database $db with the caller's settings; returns rc, stderr
# and the caller's settings afterwards, read in the same session.
sub run_failing
{
	my ($db, $dir, $extra) = @_;
	my ($out, $err) = ('', '');
	my $rc = $node->psql($db,
		"${caller_settings}${extra}CALL morgenmigrate.migrate_run('$dir');\n$show",
		stdout => \$out, stderr => \$err, on_error_stop => 0);
	return ($rc, $err, $out);
}

# What each failure case checks: the error, its context, the recorded
# failure, the caller's session, and no worker or lock left behind.
sub failed_as_expected
{
	my ($db, $what, $err, $out, $error_re, $file, $sqlstate, $line) = @_;
	like($err, $error_re, "$what: the error is raised");
	like($err, qr/CONTEXT:  migration "\Q$file\E", line $line/,
		"$what: the error names the file and line");
	is( $node->safe_psql($db, q{
			SELECT filename || ':' || sqlstate || ':' || line FROM morgenmigrate.migration_errors}),
		"$file:$sqlstate:$line", "$what: the failure is recorded with its line");
	is($out, $caller_expected, "$what: the caller's settings and role are back");
	is($node->safe_psql($db, q{SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'}),
		'0', "$what: the migration lock is released");
}

#
# The file's statement_timeout expires while it waits to retry a lock
#
{
	new_db('retry_timeout_db');
	my $dir = PostgreSQL::Test::Utils::tempdir();
	PostgreSQL::Test::Utils::append_to_file("$dir/001_locked.sql", <<'EOF');
-- morgenmigrate: lock_timeout=10ms statement_timeout=2s retries=10
SET session_replication_role = replica;
SET ROLE app_owner;
SELECT set_config('mmtest.flag', 'leaked', false);
LOCK TABLE gadgets IN ACCESS EXCLUSIVE MODE;
CREATE INDEX CONCURRENTLY IF NOT EXISTS gadgets_code_idx ON gadgets (code);
EOF
	my $holder = $node->background_psql('retry_timeout_db');
	$holder->query_safe('BEGIN; LOCK TABLE gadgets IN ACCESS SHARE MODE');
	my ($rc, $err, $out) = run_failing('retry_timeout_db', $dir, '');
	$holder->query_safe('COMMIT');
	$holder->quit;
	failed_as_expected('retry_timeout_db', 'deadline in the retry wait', $err, $out,
		qr/ERROR:  canceling statement due to statement timeout/,
		'001_locked.sql', '57014', 5);
}

#
# A cancel while the file waits to retry a lock
#
{
	new_db('retry_cancel_db');
	my $dir = PostgreSQL::Test::Utils::tempdir();
	PostgreSQL::Test::Utils::append_to_file("$dir/001_locked.sql", <<'EOF');
-- morgenmigrate: lock_timeout=10ms retries=10
SET session_replication_role = replica;
SET ROLE app_owner;
LOCK TABLE gadgets IN ACCESS EXCLUSIVE MODE;
CREATE INDEX CONCURRENTLY IF NOT EXISTS gadgets_code_idx ON gadgets (code);
EOF
	my $holder = $node->background_psql('retry_cancel_db');
	$holder->query_safe('BEGIN; LOCK TABLE gadgets IN ACCESS SHARE MODE');
	my ($s, $pid) = start_background($node, 'retry_cancel_db',
		"CALL morgenmigrate.migrate_run('$dir')", $caller_settings);
	ok( $node->poll_query_until('postgres', qq{
			SELECT count(*) FROM pg_stat_activity
			 WHERE pid = $pid AND wait_event_type = 'Extension'}, '1'),
		'cancel in the retry wait: the caller waits to retry');
	$node->safe_psql('postgres', "SELECT pg_cancel_backend($pid)");
	my $err = finish_background($s);
	my $out = $s->query($show);
	$s->quit;
	$holder->query_safe('COMMIT');
	$holder->quit;
	failed_as_expected('retry_cancel_db', 'cancel in the retry wait', $err, $out,
		qr/ERROR:  canceling statement due to user request/,
		'001_locked.sql', '57014', 4);
}

#
# A deferred constraint fails at the commit after a statement
#
{
	new_db('deferred_db');
	$node->safe_psql('deferred_db', q{
		CREATE TABLE parents (id integer PRIMARY KEY);
		CREATE TABLE kids (parent_id integer REFERENCES parents DEFERRABLE INITIALLY DEFERRED);
		GRANT ALL ON parents, kids TO app_owner;});
	my $dir = PostgreSQL::Test::Utils::tempdir();
	PostgreSQL::Test::Utils::append_to_file("$dir/001_orphan.sql", <<'EOF');
SET ROLE app_owner;
INSERT INTO kids VALUES (99);
CREATE INDEX CONCURRENTLY IF NOT EXISTS kids_parent_idx ON kids (parent_id);
EOF
	my ($rc, $err, $out) = run_failing('deferred_db', $dir, '');
	failed_as_expected('deferred_db', 'deferred constraint', $err, $out,
		qr/ERROR:  insert or update on table "kids" violates foreign key constraint/,
		'001_orphan.sql', '23503', 2);
	is($node->safe_psql('deferred_db', 'SELECT count(*) FROM kids'), '0',
		'deferred constraint: the failing statement left nothing');
	is($node->safe_psql('deferred_db', q{SELECT to_regclass('kids_parent_idx') IS NULL}), 't',
		'deferred constraint: the statements after it did not run');
}

#
# A client in LATIN1 gets the worker's error with its non-ASCII text, and
# the recorded failure is valid text
#
{
	new_db('latin1_db');
	my $dir = PostgreSQL::Test::Utils::tempdir();
	PostgreSQL::Test::Utils::append_to_file("$dir/001_missing.sql",
		"CREATE INDEX CONCURRENTLY ON \"tabl\xc3\xa9\" (id);\n");
	my ($out, $err) = ('', '');
	$node->psql('latin1_db', "SET client_encoding = 'LATIN1';\nCALL morgenmigrate.migrate_run('$dir')",
		stdout => \$out, stderr => \$err);
	like($err, qr/ERROR:  relation "tabl\xe9" does not exist/,
		'LATIN1 client: the worker\'s error arrives, in the client\'s encoding');
	is( $node->safe_psql('latin1_db', q{
			SELECT sqlstate || ':' || (message = 'relation "tabl' || chr(233) || '" does not exist')
			  FROM morgenmigrate.migration_errors}),
		'42P01:true', 'LATIN1 client: the recorded failure is the real one, valid text');
}

$node->stop;
done_testing();
