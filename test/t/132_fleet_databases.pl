# Fleets of databases, with real sessions and background workers:
#
# - Bad input (a NULL database, an unknown database, max_parallel 0, the
#   push form, a caller that may not read the directory) is refused with
#   its SQLSTATE before anything runs: no database changes.  An empty
#   array does nothing, with a NOTICE.
# - CALL migrate_run over 20 databases (the caller's own among them, one
#   whose file fails, one without the extension): the good ones are fully
#   applied and committed (a concurrent index build too, by a worker of
#   the database's worker), the failing one stops at its file with the
#   failure in its own migration_errors, the one without the extension is
#   left as it was, and one error names both.
# - migrate_status answers for every database from one call;
#   migrate_check names the databases that are behind or unreachable.
# - A database still on version 1.0 of the extension is served beside one
#   on this version by status, check and run, and left on 1.0.  One whose
#   migrate_status(dir) returns a column of another type, under the same
#   version, is unavailable instead of misread; the others answer.
# - A database the caller may not connect to is reported (status row,
#   run and check errors with 42501), not entered, nothing changed there,
#   and the other database is migrated by the same call.
# - The caller's own database is done in the caller's session, not by a
#   worker that would wait for it: status and check there see files
#   migrate_apply applied earlier in the caller's transaction, and the
#   extension created in it; they answer while the caller's transaction
#   holds the history locked (LOCK TABLE, ALTER EXTENSION UPDATE); CALL
#   migrate_run migrates it while the caller holds its migration lock, or
#   an advisory lock a file takes; it fails there as a worker's database
#   does, and fails alone when the current role may not EXECUTE the
#   single-database function there.  A worker of another database that
#   would wait for a lock the caller's transaction holds (it renamed that
#   database) fails its database (55P03) and is stopped.  Each of these
#   calls runs under a statement_timeout, so that a wait fails instead of
#   hanging; the rolled back transactions changed nothing.
# - CONNECT is asked of the caller's login role, as the server asks it of
#   the worker: a login role without it is refused whatever role it SETs,
#   one with it migrates as a role it SETs that has none.
# - The caller's morgenmigrate.* settings hold in the workers: a rewrite
#   over its max_locked_bytes is refused there (55000), nothing changed.
#   Its other settings do not: a worker has its database's search_path,
#   the caller's own database the caller's.  A database named twice is
#   done once.
# - README.md's example ("fleet-databases"), as it stands there.
# - Worker slots: with one slot of max_worker_processes free, a call with
#   max_parallel 2 waits for its own worker and migrates every database;
#   with none free (another call's worker holds the last), each database
#   fails on its own (53000), saying so, with nothing changed there, the
#   other call goes on, and the same call succeeds once a slot is free.
# - Overlapping fleet calls, and a CALL migrate_run in one of their
#   databases, wait for each other on each database's migration lock and
#   apply each file once.
# - migrate_status holds no row of its own: while a worker waits, the rows
#   of the database before it (5,000) are not in the call's memory.
# - max_parallel: while files wait on a lock the test holds, a second
#   session sees exactly max_parallel workers, each with its database in
#   morgenmigrate.progress, and the caller's own database as the caller's
#   own row, with no worker running yet; cancelling the caller stops them, and no
#   worker is left; so does terminating it.  A worker that is terminated
#   fails its database only, and the call goes on with the next.
# Nothing here is timed: the test waits until a session shows what the
# held lock holds it at.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../perl";
use MorgenmigrateTest qw(write_set readme_example);

my $node = PostgreSQL::Test::Cluster->new('fleet_databases');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'morgenmigrate'
max_worker_processes = 16
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION morgenmigrate');

my $base = PostgreSQL::Test::Utils::tempdir();
my $set = write_set("$base/set",
	'001_accounts.sql' => "CREATE TABLE accounts (id int PRIMARY KEY, note text);\n"
	  . "INSERT INTO accounts VALUES (1, 'first');\n",
	'002_audit.sql' => "CREATE TABLE audit (id int);\n",
	'003_accounts_note.sql' => "CREATE INDEX CONCURRENTLY accounts_note ON accounts (note);\n");
# waits while the test holds a lock on a shared catalog (every database
# sees the same lock): pg_shdescription, which no new session reads; a
# lock on pg_shseclabel also stopped every connection that had to build
# the shared relation cache again (after autovacuum or a shared catalog's
# change), the test's own included
my $slow = write_set("$base/slow",
	'001_wait.sql' => "-- morgenmigrate: lock_timeout=0\nSELECT count(*) FROM pg_catalog.pg_shdescription;\n");

my @good = map { sprintf 'fleet_%02d', $_ } 1 .. 18;
my @all = (@good, 'fleet_bad', 'fleet_noext');
for my $db (@all)
{
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, 'CREATE EXTENSION morgenmigrate') unless $db eq 'fleet_noext';
}
# 002_audit.sql fails there
$node->safe_psql('fleet_bad', 'CREATE TABLE audit (id int)');
my $array = 'ARRAY[' . join(',', map { "'$_'" } @all) . ']';

# The query of a fleet's status of $set over DATABASES (an SQL array): a
# line per database, its name, its number of rows, its states and its
# first error.
sub status_summary
{
	my ($databases) = @_;
	return "SELECT database || ':' || count(*) || ':' || string_agg(DISTINCT state, ',')"
	  . " || ':' || coalesce(min(error), '-')"
	  . " FROM morgenmigrate.migrate_status('$set', databases => $databases)"
	  . ' GROUP BY database ORDER BY database';
}

# What a database holds: the extension, its history, its failures, its
# tables and valid indexes.
sub state_of
{
	my ($db) = @_;
	my $ext = $node->safe_psql($db,
		"SELECT count(*) FROM pg_extension WHERE extname = 'morgenmigrate'");
	my $history = $ext eq '0' ? '-|-' : $node->safe_psql($db, q{
		SELECT (SELECT coalesce(string_agg(filename, ',' ORDER BY filename), '')
		          FROM morgenmigrate.schema_migrations) || '|'
		  || (SELECT coalesce(string_agg(filename || ':' || sqlstate, ',' ORDER BY filename), '')
		        FROM morgenmigrate.migration_errors)});
	my $relations = $node->safe_psql($db, q{
		SELECT coalesce(string_agg(c.relname, ',' ORDER BY c.relname), '')
		  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		  LEFT JOIN pg_index i ON i.indexrelid = c.oid
		 WHERE n.nspname = 'public' AND coalesce(i.indisvalid, true)});
	return "$ext|$history|$relations";
}

# Every database's state, one line each.
sub states
{
	return join "\n", map { "$_=" . state_of($_) } @_;
}

# Runs SQL in database DB; returns its stderr (with SQLSTATEs).
sub refused
{
	my ($db, $sql) = @_;
	my ($out, $err) = ('', '');
	$node->psql($db, "\\set VERBOSITY verbose\n$sql", stdout => \$out, stderr => \$err);
	return $err;
}

# bad input: refused before anything runs, nothing changed
my $before = states(@all);
like(refused('fleet_01', "CALL morgenmigrate.migrate_run('$set', databases => ARRAY['fleet_02', NULL])"),
	qr/ERROR:  22004: argument "databases" must not hold a null/, 'a NULL database is refused (22004)');
like(refused('fleet_01', "CALL morgenmigrate.migrate_run('$set', databases => ARRAY['fleet_02', 'fleet_nosuch'])"),
	qr/ERROR:  3D000: database "fleet_nosuch" does not exist/, 'an unknown database is refused (3D000)');
like(refused('fleet_01', "CALL morgenmigrate.migrate_run('$set', databases => ARRAY['fleet_02'], max_parallel => 0)"),
	qr/ERROR:  22023: argument "max_parallel" must be at least 1/, 'max_parallel 0 is refused (22023)');
like(refused('fleet_01', "CALL morgenmigrate.migrate_run('$set', databases => NULL)"),
	qr/ERROR:  22004: argument "databases" must not be null/, 'a NULL array is refused (22004)');
like(refused('fleet_01', "SELECT * FROM morgenmigrate.migrate_status('$set', databases => ARRAY['fleet_02'], max_parallel => 0)"),
	qr/ERROR:  22023: argument "max_parallel" must be at least 1/, 'and by migrate_status');
like(refused('fleet_01', "SELECT morgenmigrate.migrate_check('$set', databases => ARRAY[NULL, 'fleet_02'])"),
	qr/ERROR:  22004: argument "databases" must not hold a null/, 'and by migrate_check');
like(refused('fleet_01', "CALL morgenmigrate.migrate_run('pg_class'::regclass, databases => ARRAY['fleet_02'])"),
	qr/ERROR:  0A000: pushed migration files cannot be run in other databases/,
	'the push form is refused (0A000)');
like(refused('fleet_01', "CALL morgenmigrate.migrate_run('$base/nosuch', databases => ARRAY['fleet_02'])"),
	qr/ERROR:  \w{5}: .*nosuch/, 'a directory that does not exist is refused');
# a caller that may run the fleet forms but not read server files
$node->safe_psql('fleet_01', q{
	CREATE ROLE fleet_unreader LOGIN;
	GRANT USAGE ON SCHEMA morgenmigrate TO fleet_unreader;
	GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA morgenmigrate TO fleet_unreader;
	GRANT EXECUTE ON ALL PROCEDURES IN SCHEMA morgenmigrate TO fleet_unreader;
});
for my $sql ("CALL morgenmigrate.migrate_run('$set', databases => ARRAY['fleet_02', 'fleet_01'])",
	"SELECT * FROM morgenmigrate.migrate_status('$set', databases => ARRAY['fleet_02'])",
	"SELECT morgenmigrate.migrate_check('$set', databases => ARRAY['fleet_02'])")
{
	like(refused('fleet_01', "SET ROLE fleet_unreader;\n$sql"),
		qr/ERROR:  42501: permission denied to read migration files/,
		'a caller that may not read the directory is refused (42501): ' . ($sql =~ /(migrate_\w+)/)[0]);
}

# an empty set of databases: nothing done, no rows, and a NOTICE says so
for my $sql ("CALL morgenmigrate.migrate_run('$set', databases => '{}')",
	"SELECT morgenmigrate.migrate_check('$set', databases => '{}')",
	"SELECT count(*) FROM morgenmigrate.migrate_status('$set', databases => '{}')")
{
	my ($out, $err) = ('', '');
	my $rc = $node->psql('fleet_01', "\\set VERBOSITY verbose\n$sql", stdout => \$out, stderr => \$err);
	my ($what) = $sql =~ /(migrate_\w+)/;
	is($rc, 0, "$what over no databases succeeds");
	like($err, qr/NOTICE:  00000: argument "databases" is empty, nothing to do/,
		"$what over no databases says it does nothing");
	is($out, $what eq 'migrate_status' ? '0' : '', "$what over no databases returns no rows");
}
is(states(@all), $before, 'and nothing changed in any database');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'morgenmigrate fleet worker'"),
	'0', 'and no worker is left');

# status before: every file pending everywhere, the bare database says why
is($node->safe_psql('fleet_01', qq{
	SELECT database || ':' || string_agg(coalesce(filename, '-') || '=' || state, ',' ORDER BY filename)
	  FROM morgenmigrate.migrate_status('$set', databases => ARRAY['fleet_02', 'fleet_noext', 'fleet_02'])
	 GROUP BY database ORDER BY database}),
	"fleet_02:001_accounts.sql=pending,002_audit.sql=pending,003_accounts_note.sql=pending\n"
	  . 'fleet_noext:-=unavailable',
	'status: each database once, in name order; the one without the extension is unavailable');

# the run: 20 databases (the caller's own among them), three at a time
my ($out, $err) = ('', '');
my $rc = $node->psql('fleet_01',
	"\\set VERBOSITY verbose\nCALL morgenmigrate.migrate_run('$set', databases => $array, max_parallel => 3)",
	stdout => \$out, stderr => \$err);
isnt($rc, 0, 'the run fails (psql exits non-zero)');
like($err, qr/ERROR:  42P07: migrations failed in 2 databases of 20/, 'one error: two of twenty failed, with the first failure\'s SQLSTATE');
like($err, qr/DETAIL:  Database "fleet_bad": relation "audit" already exists \(SQLSTATE 42P07; migration "002_audit\.sql", line 1\)\./,
	'it names the failing database, its file and its error');
like($err, qr/Database "fleet_noext": extension "morgenmigrate" is not installed in database "fleet_noext" \(SQLSTATE 42704\)\./,
	'and the database without the extension');
my @done = $err =~ /NOTICE:  00000: migrations of database "(fleet_\d\d)" are done/g;
is(join(',', sort @done), join(',', @good), 'a NOTICE for each database migrated');
like($err, qr/WARNING:  01000: migrations of database "fleet_bad" failed: relation "audit" already exists\nDETAIL:  migration "002_audit\.sql", line 1\n/, 'a WARNING when one fails');

my $applied = '1|001_accounts.sql,002_audit.sql,003_accounts_note.sql||accounts,accounts_note,accounts_pkey,audit';
is(states(@good), join("\n", map { "$_=$applied" } @good),
	'every good database is fully applied, its index built concurrently and valid');
is(state_of('fleet_bad'), '1|001_accounts.sql|002_audit.sql:42P07|accounts,accounts_pkey,audit',
	'the failing database stops at its file, the failure in its own migration_errors');
is(state_of('fleet_noext'), '0|-|-|', 'the database without the extension is left as it was');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'morgenmigrate fleet worker'"),
	'0', 'no worker is left');

# The caller's own database is done in the caller's session, as the
# single-database call would do it there: it sees what the caller's
# transaction did, and never waits for a lock the caller holds (a worker
# there would wait for the caller, which waits for the worker, forever).
# Every call here runs under a statement_timeout, so that such a wait
# shows as a failure (57014), not as a hang.
my $own_set = write_set("$base/own",
	'001_own.sql' => "CREATE TABLE own_a (id int);\n",
	'002_own.sql' => "CREATE TABLE own_b (id int);\n");
my $guard = "\\set VERBOSITY verbose\nSET statement_timeout = '60s';\n";
for my $db (qw(fleet_own fleet_other fleet_fresh fleet_upd fleet_keys fleet_ren))
{
	$node->safe_psql('postgres', "CREATE DATABASE $db");
}
$node->safe_psql($_, 'CREATE EXTENSION morgenmigrate') for qw(fleet_own fleet_other fleet_ren);
$node->safe_psql('fleet_keys', 'CREATE EXTENSION morgenmigrate');
$node->safe_psql('fleet_upd', "CREATE EXTENSION morgenmigrate VERSION '1.0'");
my @own_dbs = qw(fleet_own fleet_fresh fleet_upd fleet_keys fleet_other fleet_ren);
my $own_before = states(@own_dbs);

# Runs SQL (after the guard) in database DB; returns its stdout and stderr.
sub guarded
{
	my ($db, $sql) = @_;
	my ($out, $err) = ('', '');
	$node->psql($db, $guard . $sql, stdout => \$out, stderr => \$err);
	return ($out, $err);
}

# Each database's files and their states, from one migrate_status call.
my $own_status = sub {
	my ($dbs) = @_;
	return qq{SELECT database || ':' || string_agg(coalesce(filename, '-') || '=' || state, ',' ORDER BY filename)
	  FROM morgenmigrate.migrate_status('$own_set', databases => $dbs)
	 GROUP BY database ORDER BY database;};
};

# files applied earlier in the caller's transaction: status and check of
# its own database see them, as migrate_status(dir) there does
($out, $err) = guarded('fleet_own', "BEGIN;\n"
	  . "SELECT count(*) FROM morgenmigrate.migrate_apply('$own_set');\n"
	  . $own_status->("ARRAY['fleet_own', 'fleet_other']") . "\n"
	  . "SELECT 'quiet' FROM (SELECT morgenmigrate.migrate_check('$own_set', databases => ARRAY['fleet_own'])) c;\n"
	  . "ROLLBACK;");
is($out, "2\n"
	  . "fleet_other:001_own.sql=pending,002_own.sql=pending\n"
	  . "fleet_own:001_own.sql=applied,002_own.sql=applied\n"
	  . 'quiet',
	'after migrate_apply in the caller\'s transaction, status and check of its own database see the files applied');
unlike($err, qr/ERROR/, 'and neither call fails');

# the caller's transaction holds its history locked (LOCK TABLE, and the
# migration lock): status and check answer at once
($out, $err) = guarded('fleet_own', "BEGIN;\n"
	  . "LOCK TABLE morgenmigrate.schema_migrations, morgenmigrate.migration_errors IN ACCESS EXCLUSIVE MODE;\n"
	  . "SELECT count(*) FROM (SELECT pg_advisory_xact_lock(7885647260957961581)) l;\n"
	  . $own_status->("ARRAY['fleet_own', 'fleet_other']") . "\n"
	  . "SELECT morgenmigrate.migrate_check('$own_set', databases => ARRAY['fleet_other', 'fleet_own']);\n"
	  . "ROLLBACK;");
is($out, "1\n"
	  . "fleet_other:001_own.sql=pending,002_own.sql=pending\n"
	  . 'fleet_own:001_own.sql=pending,002_own.sql=pending',
	'with its history locked in the caller\'s transaction, status of its own database answers');
like($err, qr/ERROR:  55000: 2 databases of 2 are not up to date with "\Q$own_set\E" or could not be checked\nDETAIL:  Database "fleet_other": 2 migrations .* Database "fleet_own": 2 migrations /,
	'and check names both databases, with what each lacks');

# the extension created in the caller's still-open transaction (and with it
# the history): its own database answers, every file pending
($out, $err) = guarded('fleet_fresh', "BEGIN;\nCREATE EXTENSION morgenmigrate;\n"
	  . $own_status->("ARRAY['fleet_fresh']") . "\nROLLBACK;");
is($out, 'fleet_fresh:001_own.sql=pending,002_own.sql=pending',
	'with the extension created in the caller\'s transaction, its own database answers');
unlike($err, qr/ERROR/, 'and the call does not fail');

# the extension updated in the caller's transaction, whose ALTER TABLE of
# the history holds it locked
($out, $err) = guarded('fleet_upd', "BEGIN;\nALTER EXTENSION morgenmigrate UPDATE;\n"
	  . $own_status->("ARRAY['fleet_upd', 'fleet_other']") . "\nROLLBACK;");
is($out, "fleet_other:001_own.sql=pending,002_own.sql=pending\n"
	  . 'fleet_upd:001_own.sql=pending,002_own.sql=pending',
	'with the extension updated in the caller\'s transaction, its own database answers');
unlike($err, qr/ERROR/, 'and the call does not fail');
# a worker of another database would wait for a lock the caller's
# transaction holds (ALTER DATABASE ... RENAME locks that database, which
# a connection to it waits for): the caller sees its worker wait for it,
# and that database alone fails (55P03), its worker stopped; the others
# answer
($out, $err) = guarded('fleet_own', "BEGIN;\nALTER DATABASE fleet_ren RENAME TO fleet_ren_new;\n"
	  . "SELECT database || ':' || state || ':' || coalesce(error, '-')\n"
	  . "  FROM morgenmigrate.migrate_status('$own_set', databases => ARRAY['fleet_ren_new', 'fleet_other'])\n"
	  . " ORDER BY database, filename;\n"
	  . "SELECT morgenmigrate.migrate_check('$own_set', databases => ARRAY['fleet_other', 'fleet_ren_new']);\n"
	  . "ROLLBACK;");
my $waits = 'the worker for database "fleet_ren_new" would wait for a lock this session holds';
is($out, "fleet_other:pending:-\nfleet_other:pending:-\nfleet_ren_new:unavailable:$waits",
	'a worker waiting for a lock the caller\'s transaction holds: its database is unavailable, the other answers');
like($err, qr/ERROR:  55000: 2 databases of 2 are not up to date .* or could not be checked\nDETAIL:  Database "fleet_other": 2 migrations .* Database "fleet_ren_new": \Q$waits\E \(SQLSTATE 55P03\)\. /,
	'and check names it (55P03)');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'morgenmigrate fleet worker'"),
	'0', 'and no worker is left');
is(states(@own_dbs), $own_before, 'the transactions rolled back: nothing changed in any database');

# CALL migrate_run while the caller holds the migration lock of its own
# database: it is migrated, as CALL migrate_run(dir) in that session is,
# and the caller's hold stays
($out, $err) = guarded('fleet_own', "SELECT count(*) FROM (SELECT pg_advisory_lock(7885647260957961581)) l;\n"
	  . "CALL morgenmigrate.migrate_run('$own_set', databases => ARRAY['fleet_own', 'fleet_other']);\n"
	  . "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid();");
is($out, "1\n1", 'a caller holding its own migration lock: the run succeeds, and the caller still holds the lock');
is(join(',', sort($err =~ /migrations of database "(\w+)" are done/g)), 'fleet_other,fleet_own',
	'and says each database is done');
unlike($err, qr/ERROR/, 'with no error');
is(state_of('fleet_own'), '1|001_own.sql,002_own.sql||own_a,own_b', 'the caller\'s own database is migrated');
is(state_of('fleet_other'), '1|001_own.sql,002_own.sql||own_a,own_b', 'and so is the other');

# a migration file takes an advisory lock the caller holds for its session
my $key_set = write_set("$base/keys",
	'001_keyed.sql' => "SELECT pg_advisory_xact_lock(4242);\nCREATE TABLE keyed (id int);\n");
($out, $err) = guarded('fleet_keys', "SELECT count(*) FROM (SELECT pg_advisory_lock(4242)) l;\n"
	  . "CALL morgenmigrate.migrate_run('$key_set', databases => ARRAY['fleet_keys', 'fleet_noext']);");
is($out, '1', 'a caller holding an advisory lock a file of its own database takes');
like($err, qr/ERROR:  42704: migrations failed in 1 database of 2\nDETAIL:  Database "fleet_noext": /,
	'the call ends naming only the database without the extension');
is(state_of('fleet_keys'), '1|001_keyed.sql||keyed', 'and its own database is migrated');

# the caller's own database failing in the caller's session: reported as a
# worker's failure is, recorded in its history, and the other goes on
($out, $err) = guarded('fleet_bad',
	"CALL morgenmigrate.migrate_run('$set', databases => ARRAY['fleet_bad', 'fleet_02']);");
like($err, qr/WARNING:  01000: migrations of database "fleet_bad" failed: relation "audit" already exists\nDETAIL:  migration "002_audit\.sql", line 1\n/,
	'the caller\'s own database failing: a WARNING names its file');
like($err, qr/ERROR:  42P07: migrations failed in 1 database of 2\nDETAIL:  Database "fleet_bad": relation "audit" already exists \(SQLSTATE 42P07; migration "002_audit\.sql", line 1\)\.\n/,
	'and the error names it, its file and its error');
like($err, qr/NOTICE:  00000: migrations of database "fleet_02" are done/, 'and the other goes on');
is(state_of('fleet_bad'), '1|001_accounts.sql|002_audit.sql:42P07|accounts,accounts_pkey,audit',
	'the failure is in its own migration_errors, nothing else changed');

# status of every database from one call
is($node->safe_psql('postgres', qq{
	SELECT database || ':' || string_agg(coalesce(filename, '-') || '=' || state, ',' ORDER BY filename)
	  FROM morgenmigrate.migrate_status('$set', databases => ARRAY['fleet_noext', 'fleet_bad', 'fleet_03', 'fleet_01'])
	 GROUP BY database ORDER BY database}),
	join("\n",
		'fleet_01:001_accounts.sql=applied,002_audit.sql=applied,003_accounts_note.sql=applied',
		'fleet_03:001_accounts.sql=applied,002_audit.sql=applied,003_accounts_note.sql=applied',
		'fleet_bad:001_accounts.sql=applied,002_audit.sql=failed,003_accounts_note.sql=pending',
		'fleet_noext:-=unavailable'),
	'status: which databases are behind, and on which file');
is($node->safe_psql('postgres', qq{
	SELECT error FROM morgenmigrate.migrate_status('$set', databases => ARRAY['fleet_noext'])}),
	'extension "morgenmigrate" is not installed in database "fleet_noext"',
	'and why one is unavailable');
is($node->safe_psql('postgres', qq{
	SELECT count(*) FROM morgenmigrate.migrate_status('$set', databases => $array)}),
	18 * 3 + 3 + 1, 'one call answers for all twenty');

# check: quiet over the good ones, names the others
is($node->safe_psql('postgres', qq{
	SELECT morgenmigrate.migrate_check('$set', databases => ARRAY['fleet_01', 'fleet_18'], max_parallel => 1)}),
	'', 'check: quiet when every database is up to date');
$err = refused('postgres', "SELECT morgenmigrate.migrate_check('$set', databases => $array)");
like($err, qr/ERROR:  55000: 2 databases of 20 are not up to date with "\Q$set\E" or could not be checked/,
	'check: an error when some are not');
like($err, qr/Database "fleet_bad": .*003_accounts_note\.sql.*Database "fleet_noext": extension "morgenmigrate" is not installed/s,
	'naming each, with what it lacks');

# a database the caller may not connect to: reported, never entered, and
# the others go on (a role granted what README's "Privileges" grants)
$node->safe_psql('postgres', q{
	CREATE DATABASE fleet_locked;
	CREATE DATABASE fleet_open;
	REVOKE CONNECT ON DATABASE fleet_locked FROM PUBLIC;
	CREATE ROLE deployer LOGIN IN ROLE pg_read_server_files;
});
for my $db ('fleet_02', 'fleet_locked', 'fleet_open')
{
	$node->safe_psql($db, 'CREATE EXTENSION morgenmigrate') unless $db eq 'fleet_02';
	$node->safe_psql($db, q{
		GRANT USAGE ON SCHEMA morgenmigrate TO deployer;
		GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA morgenmigrate TO deployer;
		GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA morgenmigrate TO deployer;
		GRANT EXECUTE ON ALL PROCEDURES IN SCHEMA morgenmigrate TO deployer;
		GRANT CREATE ON SCHEMA public TO deployer;
	});
}
my $locked_before = state_of('fleet_locked');
is($locked_before, '1|||', 'the database without CONNECT has the extension and nothing else');
my $as_deployer = [ '-U', 'deployer' ];
is($node->safe_psql('fleet_02', status_summary("ARRAY['fleet_02', 'fleet_locked']"),
		extra_params => $as_deployer),
	"fleet_02:3:applied:-\nfleet_locked:1:unavailable:permission denied to connect to database \"fleet_locked\"",
	'status: a database without CONNECT has one unavailable row saying why, the other answers');
($out, $err) = ('', '');
$rc = $node->psql('fleet_open',
	"\\set VERBOSITY verbose\nCALL morgenmigrate.migrate_run('$set', databases => ARRAY['fleet_locked', 'fleet_open'])",
	stdout => \$out, stderr => \$err, extra_params => $as_deployer);
isnt($rc, 0, 'run: the call fails (psql exits non-zero)');
like($err, qr/ERROR:  42501: migrations failed in 1 database of 2\nDETAIL:  Database "fleet_locked": permission denied to connect to database "fleet_locked" \(SQLSTATE 42501\)\.\nHINT:  The other databases are migrated and committed/,
	'run: one error names the database without CONNECT, with its SQLSTATE (42501)');
like($err, qr/WARNING:  01000: migrations of database "fleet_locked" failed: permission denied to connect to database "fleet_locked"\n/,
	'run: a WARNING when it fails');
like($err, qr/NOTICE:  00000: migrations of database "fleet_open" are done/, 'run: the other database goes on');
is(state_of('fleet_open'), $applied, 'and is fully migrated by the role');
is(state_of('fleet_locked'), $locked_before,
	'and in the database without CONNECT neither the history nor the schema changed');
($out, $err) = ('', '');
$node->psql('fleet_open',
	"\\set VERBOSITY verbose\nSELECT morgenmigrate.migrate_check('$set', databases => ARRAY['fleet_locked', 'fleet_open'])",
	stdout => \$out, stderr => \$err, extra_params => $as_deployer);
like($err, qr/ERROR:  55000: 1 database of 2 is not up to date with "\Q$set\E" or could not be checked\nDETAIL:  Database "fleet_locked": permission denied to connect to database "fleet_locked" \(SQLSTATE 42501\)\.\n/,
	'check: names only the database without CONNECT, with its SQLSTATE');
is($node->safe_psql('postgres', qq{
	SELECT database || ':' || state || ':' || error
	  FROM morgenmigrate.migrate_status('$set', databases => ARRAY['template0'])}),
	'template0:unavailable:database "template0" is not currently accepting connections',
	'a database that allows no connections is reported');

# in the caller's own database no worker connects, but the current role
# needs EXECUTE on the single-database function there, as a worker's
# does: without it, that database alone fails, saying so, and is left as
# it was; the other goes on
$node->safe_psql('fleet_02', q{
	REVOKE EXECUTE ON FUNCTION morgenmigrate.migrate_status(text), morgenmigrate.migrate_check(text) FROM deployer;
	REVOKE EXECUTE ON PROCEDURE morgenmigrate.migrate_run(text, text) FROM deployer;
});
my $noexec_before = state_of('fleet_02');
is($node->safe_psql('fleet_02', status_summary("ARRAY['fleet_02', 'fleet_open']"),
		extra_params => $as_deployer),
	"fleet_02:1:unavailable:permission denied for function migrate_status\nfleet_open:3:applied:-",
	'status: without EXECUTE on migrate_status(dir) in its own database, the caller gets it unavailable');
($out, $err) = ('', '');
$node->psql('fleet_02',
	"\\set VERBOSITY verbose\nSELECT morgenmigrate.migrate_check('$set', databases => ARRAY['fleet_02', 'fleet_open'])",
	stdout => \$out, stderr => \$err, extra_params => $as_deployer);
like($err, qr/ERROR:  55000: 1 database of 2 is not up to date with "\Q$set\E" or could not be checked\nDETAIL:  Database "fleet_02": permission denied for function migrate_check \(SQLSTATE 42501\)\.\n/,
	'check: names it (42501)');
($out, $err) = ('', '');
$node->psql('fleet_02',
	"\\set VERBOSITY verbose\nCALL morgenmigrate.migrate_run('$set', databases => ARRAY['fleet_02', 'fleet_open'])",
	stdout => \$out, stderr => \$err, extra_params => $as_deployer);
like($err, qr/ERROR:  42501: migrations failed in 1 database of 2\nDETAIL:  Database "fleet_02": permission denied for procedure migrate_run \(SQLSTATE 42501\)\./,
	'run: names it (42501)');
like($err, qr/NOTICE:  00000: migrations of database "fleet_open" are done/, 'run: the other database goes on');
is(state_of('fleet_02'), $noexec_before, 'and nothing changed in the caller\'s database');
$node->safe_psql('fleet_02', q{
	GRANT EXECUTE ON FUNCTION morgenmigrate.migrate_status(text), morgenmigrate.migrate_check(text) TO deployer;
	GRANT EXECUTE ON PROCEDURE morgenmigrate.migrate_run(text, text) TO deployer;
});

# CONNECT is the login role's: the worker logs in as the caller's login
# role and then takes on its SET ROLE, as a session would, so a login role
# without CONNECT is refused whatever role it SETs, and one with CONNECT
# is let in for a role that has none (fleet_nocon may SET ROLE deployer
# but, NOINHERIT, has none of its privileges itself)
$node->safe_psql('postgres', q{
	CREATE DATABASE fleet_setrole;
	REVOKE CONNECT ON DATABASE fleet_setrole FROM PUBLIC;
	GRANT CONNECT ON DATABASE fleet_setrole TO deployer;
	CREATE ROLE fleet_migrator NOLOGIN IN ROLE pg_read_server_files;
	GRANT fleet_migrator TO deployer;
	CREATE ROLE fleet_nocon LOGIN NOINHERIT IN ROLE deployer;
});
for my $db ('fleet_setrole', 'fleet_open')
{
	$node->safe_psql($db, 'CREATE EXTENSION morgenmigrate') if $db eq 'fleet_setrole';
	$node->safe_psql($db, q{
		GRANT USAGE ON SCHEMA morgenmigrate TO deployer, fleet_migrator;
		GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA morgenmigrate TO deployer, fleet_migrator;
		GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA morgenmigrate TO deployer, fleet_migrator;
		GRANT EXECUTE ON ALL PROCEDURES IN SCHEMA morgenmigrate TO deployer, fleet_migrator;
		GRANT CREATE ON SCHEMA public TO deployer, fleet_migrator;
	});
}
my $setrole_before = state_of('fleet_setrole');
is($setrole_before, '1|||', 'a database only deployer may connect to, with nothing applied');
($out, $err) = ('', '');
$node->psql('fleet_open',
	"\\set VERBOSITY verbose\nSET ROLE deployer;\n"
	  . "CALL morgenmigrate.migrate_run('$set', databases => ARRAY['fleet_setrole']);",
	stdout => \$out, stderr => \$err, extra_params => [ '-U', 'fleet_nocon' ]);
like($err, qr/ERROR:  42501: migrations failed in 1 database of 1\nDETAIL:  Database "fleet_setrole": permission denied to connect to database "fleet_setrole" \(SQLSTATE 42501\)\./,
	'a login role without CONNECT is refused, though the role it SET has CONNECT');
is($node->safe_psql('fleet_open', qq{
	SET ROLE deployer;
	SELECT state || ':' || error
	  FROM morgenmigrate.migrate_status('$set', databases => ARRAY['fleet_setrole'])},
		extra_params => [ '-U', 'fleet_nocon' ]),
	'unavailable:permission denied to connect to database "fleet_setrole"',
	'and status says so');
is(state_of('fleet_setrole'), $setrole_before, 'and nothing changed there');
($out, $err) = ('', '');
$rc = $node->psql('fleet_open',
	"\\set VERBOSITY verbose\nSET ROLE fleet_migrator;\n"
	  . "CALL morgenmigrate.migrate_run('$set', databases => ARRAY['fleet_setrole']);",
	stdout => \$out, stderr => \$err, extra_params => $as_deployer);
is($rc, 0, 'a login role with CONNECT that SET ROLE to one without: the run succeeds');
like($err, qr/NOTICE:  00000: migrations of database "fleet_setrole" are done/, 'and says so');
is(state_of('fleet_setrole'), $applied, 'the database is fully migrated');
is($node->safe_psql('fleet_setrole', "SELECT tableowner FROM pg_tables WHERE tablename = 'accounts'"),
	'fleet_migrator', 'by the role the caller SET');

# the caller's morgenmigrate.* settings hold in every database: with
# max_locked_bytes at 8kB, a file that would rewrite a larger table is
# refused there (55000) and nothing changes, as in a call of its own
$node->safe_psql('postgres', 'CREATE DATABASE fleet_guard');
$node->safe_psql('fleet_guard', q{
	CREATE EXTENSION morgenmigrate;
	CREATE TABLE big (id int, pad text);
	INSERT INTO big SELECT g, repeat('x', 100) FROM generate_series(1, 1000) g;
});
my $rewrite = write_set("$base/rewrite",
	'001_widen.sql' => "ALTER TABLE big ALTER COLUMN id TYPE bigint;\n");
my $guard_state = sub {
	return state_of('fleet_guard') . '|' . $node->safe_psql('fleet_guard',
		"SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'big'::regclass AND attname = 'id'");
};
my $guard_before = $guard_state->();
is($guard_before, '1|||big|integer', 'a database with a table over 8 kB and a pending rewrite of it');
($out, $err) = ('', '');
$rc = $node->psql('postgres',
	"\\set VERBOSITY verbose\nSET morgenmigrate.max_locked_bytes = '8kB';\n"
	  . "CALL morgenmigrate.migrate_run('$rewrite', databases => ARRAY['fleet_guard']);",
	stdout => \$out, stderr => \$err);
isnt($rc, 0, 'max_locked_bytes set by the caller: the run fails');
like($err, qr/ERROR:  55000: migrations failed in 1 database of 1\nDETAIL:  Database "fleet_guard": migration "001_widen\.sql", line 1, would rewrite public\.big \(\d+ kB\) under AccessExclusiveLock \(SQLSTATE 55000; migration "001_widen\.sql"/,
	'the rewrite is refused in the database, as the caller\'s max_locked_bytes says');
is($guard_state->(), $guard_before,
	'nothing changed there: neither the history nor the table');
# a setting of the database's own holds where the caller set none: the
# caller's defaults do not override it
$node->safe_psql('postgres', "ALTER DATABASE fleet_guard SET morgenmigrate.max_locked_bytes = '8kB'");
($out, $err) = ('', '');
$rc = $node->psql('postgres',
	"CALL morgenmigrate.migrate_run('$rewrite', databases => ARRAY['fleet_guard']);",
	stdout => \$out, stderr => \$err);
like($err, qr/would rewrite public\.big/,
	'the database\'s own max_locked_bytes refuses the rewrite when the caller set none');
is($guard_state->(), $guard_before, 'and nothing changed there');
$node->safe_psql('postgres', 'ALTER DATABASE fleet_guard RESET morgenmigrate.max_locked_bytes');
$node->safe_psql('postgres',
	"CALL morgenmigrate.migrate_run('$rewrite', databases => ARRAY['fleet_guard'])");
is($guard_state->(), '1|001_widen.sql||big|bigint', 'without the setting the same file is applied there');

# every other setting is what a new session gets in that database, not the
# caller's SET: with the caller's search_path set to a schema of its own,
# the worker's database creates an unqualified table in public (its
# default), the caller's own database, done in the caller's session, in
# the caller's schema.  A database named twice is migrated once.
my $where = write_set("$base/where",
	'001_where.sql' => "CREATE TABLE where_am_i (id int);\n");
for my $db (qw(fleet_path_own fleet_path_other))
{
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, 'CREATE EXTENSION morgenmigrate; CREATE SCHEMA elsewhere');
}
($out, $err) = ('', '');
$rc = $node->psql('fleet_path_own',
	"\\set VERBOSITY verbose\nSET search_path = elsewhere;\n"
	  . "CALL morgenmigrate.migrate_run('$where', databases => ARRAY['fleet_path_other', 'fleet_path_own', 'fleet_path_other']);",
	stdout => \$out, stderr => \$err);
is($rc, 0, 'search_path set by the caller: the run succeeds') or diag($err);
is(scalar(() = $err =~ /NOTICE:  00000: migrations of database "fleet_path_other" are done/g), 1,
	'a database named twice is done once');
is(join(',', map { $node->safe_psql($_, q{
	SELECT coalesce((SELECT relnamespace::regnamespace::text FROM pg_class WHERE relname = 'where_am_i'), '-')
	  || ':' || (SELECT count(*) FROM morgenmigrate.schema_migrations)}) } qw(fleet_path_own fleet_path_other)),
	'elsewhere:1,public:1',
	'the caller\'s own database has the caller\'s search_path, the worker\'s database its own default');

# README.md's example
for my $db (qw(customer_a customer_b customer_c))
{
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, 'CREATE EXTENSION morgenmigrate');
}
is($node->safe_psql('postgres',
		readme_example('fleet-databases', undef, '/srv/app/migrations' => $set)),
	'', 'fleet-databases: migrates the three databases, and then none is behind');
is(join(',', map { $node->safe_psql($_, 'SELECT count(*) FROM morgenmigrate.schema_migrations') }
		qw(customer_a customer_b customer_c)),
	'3,3,3', 'fleet-databases: every file in each');

# a database still on an older version of the extension (its SQL
# definitions not updated): this library serves it, each database answers
# for itself, and the call neither fails as a whole nor updates it
$node->safe_psql('postgres', "CREATE DATABASE $_") for qw(fleet_old fleet_new);
$node->safe_psql('fleet_old', "CREATE EXTENSION morgenmigrate VERSION '1.0'");
$node->safe_psql('fleet_new', 'CREATE EXTENSION morgenmigrate');
my $old_new = "ARRAY['fleet_new', 'fleet_old']";
is($node->safe_psql('postgres', qq{
	SELECT database || ':' || string_agg(coalesce(filename, '-') || '=' || state, ',' ORDER BY filename)
	  FROM morgenmigrate.migrate_status('$set', databases => $old_new)
	 GROUP BY database ORDER BY database}),
	"fleet_new:001_accounts.sql=pending,002_audit.sql=pending,003_accounts_note.sql=pending\n"
	  . 'fleet_old:001_accounts.sql=pending,002_audit.sql=pending,003_accounts_note.sql=pending',
	'status: a database on version 1.0 answers beside one on this version');
$err = refused('postgres', "SELECT morgenmigrate.migrate_check('$set', databases => $old_new)");
like($err, qr/ERROR:  55000: 2 databases of 2 are not up to date.*\nDETAIL:  Database "fleet_new": 3 migrations .* Database "fleet_old": 3 migrations /,
	'check: names what each lacks, the one on 1.0 too');
($out, $err) = ('', '');
$rc = $node->psql('postgres', "\\set VERBOSITY verbose\nCALL morgenmigrate.migrate_run('$set', databases => $old_new)",
	stdout => \$out, stderr => \$err);
is($rc, 0, 'run: the call succeeds');
is(join(',', sort($err =~ /migrations of database "(\w+)" are done/g)), 'fleet_new,fleet_old',
	'and says each database is done');
is(state_of('fleet_old'), $applied, 'the database on 1.0 is migrated');
is(state_of('fleet_new'), $applied, 'as the one on this version');
is($node->safe_psql('fleet_old', q{SELECT extversion FROM pg_extension WHERE extname = 'morgenmigrate'}),
	'1.0', 'and its extension is left on 1.0');

# a version whose migrate_status(dir) returns other columns, or that has
# none (no released version differs from this one in these functions, so
# the database on 1.0 is changed by hand to stand for one): that database
# alone is reported, naming its version and the one needed, and is left as
# it was; the other answers
$node->safe_psql('fleet_old', q{
	ALTER EXTENSION morgenmigrate DROP FUNCTION morgenmigrate.migrate_status(text);
	DROP FUNCTION morgenmigrate.migrate_status(text);
	CREATE FUNCTION morgenmigrate.migrate_status(dir text) RETURNS TABLE (filename text, state text)
	  LANGUAGE sql AS $$ SELECT 'x', 'applied' $$;
	ALTER EXTENSION morgenmigrate ADD FUNCTION morgenmigrate.migrate_status(text);
	ALTER EXTENSION morgenmigrate DROP FUNCTION morgenmigrate.migrate_check(text);
	DROP FUNCTION morgenmigrate.migrate_check(text);
});
my $old_before = state_of('fleet_old');
my $needs = 'extension "morgenmigrate" in database "fleet_old" is version 1.0, this call needs version 1.1';
is($node->safe_psql('postgres', status_summary($old_new)),
	"fleet_new:3:applied:-\nfleet_old:1:unavailable:$needs",
	'status: a version whose migrate_status returns other columns is unavailable, saying which versions');
$err = refused('postgres', "SELECT morgenmigrate.migrate_check('$set', databases => $old_new)");
like($err, qr/ERROR:  55000: 1 database of 2 is not up to date with "\Q$set\E" or could not be checked\nDETAIL:  Database "fleet_old": \Q$needs\E \(SQLSTATE 55000\)\. It has no function morgenmigrate\.migrate_check with 1 text argument\(s\)\.\n/,
	'check: a version without migrate_check(dir) is named, with the versions (55000)');
unlike($err, qr/Database "fleet_new"/, 'and the up-to-date database is not named');
is(state_of('fleet_old'), $old_before, 'and nothing changed there');

# the same version, but its migrate_status(dir) changed by hand to return
# as many columns, one of another type (duration an integer, which the
# caller would read as an interval of that many seconds): what decides how
# the rows are read is what the function returns there, not the version.
# That database alone is unavailable, saying what it returns and what the
# call reads, and is left as it was; the others answer.
$node->safe_psql('postgres', 'CREATE DATABASE fleet_altered');
$node->safe_psql('fleet_altered', q{
	CREATE EXTENSION morgenmigrate;
	ALTER EXTENSION morgenmigrate DROP FUNCTION morgenmigrate.migrate_status(text);
	DROP FUNCTION morgenmigrate.migrate_status(text);
	CREATE FUNCTION morgenmigrate.migrate_status(dir text)
	  RETURNS TABLE (filename text, state text, applied_at timestamptz,
	                 duration integer, checksum text, error text)
	  LANGUAGE sql AS $$ SELECT '001_accounts.sql', 'applied', now(), 5, 'x', NULL::text $$;
	ALTER EXTENSION morgenmigrate ADD FUNCTION morgenmigrate.migrate_status(text);
});
my $altered_before = state_of('fleet_altered');
my ($altered_rows, $altered_err) = ('', '');
$node->psql('postgres', status_summary("ARRAY['fleet_altered', 'fleet_new', 'fleet_01']"),
	stdout => \$altered_rows, stderr => \$altered_err);
is($altered_rows,
	"fleet_01:3:applied:-\n"
	  . 'fleet_altered:1:unavailable:function morgenmigrate.migrate_status in database "fleet_altered" returns other columns than this call reads'
	  . "\nfleet_new:3:applied:-",
	'status: a database whose migrate_status(dir) returns a column of another type is unavailable, the others answer');
is($altered_err, '', 'and the call raises no error');
$err = refused('postgres', "SELECT morgenmigrate.migrate_check('$set', databases => ARRAY['fleet_altered'])");
like($err, qr/ERROR:  55000: 1 database of 1 is not up to date .*\nDETAIL:  Database "fleet_altered": 3 migrations /,
	'check, which reads no rows there, still checks it');
is(state_of('fleet_altered'), $altered_before, 'and nothing changed there');

# max_parallel, seen from a second session, and a cancel
my @slow = map { "slow_$_" } 1 .. 5;
for my $db (@slow)
{
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, 'CREATE EXTENSION morgenmigrate');
}
my $holder = $node->background_psql('postgres');
$holder->query_safe('BEGIN; LOCK TABLE pg_catalog.pg_shdescription IN ACCESS EXCLUSIVE MODE');
my $caller = $node->background_psql('postgres', on_error_stop => 0);
my $caller_pid = $caller->query_safe('SELECT pg_backend_pid()');
$caller->query_until(qr/started/, "\\echo started\nCALL morgenmigrate.migrate_run('$slow', databases => ARRAY["
	  . join(',', map { "'$_'" } @slow) . "], max_parallel => 2);\n");
ok($node->poll_query_until('postgres', q{
	SELECT count(*) = 2 FROM morgenmigrate.progress
	 WHERE filename = '001_wait.sql' AND operation = 'migrate_run'}),
	'two files wait on the lock');
is($node->safe_psql('postgres', q{
	SELECT count(*) || '|' || count(DISTINCT database) || '|' || bool_and(database LIKE 'slow_%')
	  FROM morgenmigrate.progress p JOIN pg_stat_activity a USING (pid)
	 WHERE a.backend_type = 'morgenmigrate fleet worker'}),
	'2|2|true', 'the progress view shows each worker with its database');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'morgenmigrate fleet worker'"),
	'2', 'no more than max_parallel workers run');
$node->safe_psql('postgres', "SELECT pg_cancel_backend($caller_pid)");
ok($node->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'morgenmigrate fleet worker'"),
	'cancelling the caller stops its workers');
$caller->query('SELECT 1');
like($caller->{stderr}, qr/canceling statement due to user request/, 'the caller says it was cancelled');
$holder->query_safe('COMMIT');
is(join(',', map { $node->safe_psql($_, 'SELECT count(*) FROM morgenmigrate.schema_migrations')
		  . '/' . $node->safe_psql($_, 'SELECT count(*) FROM morgenmigrate.migration_errors') } @slow),
	'0/0,0/0,0/0,0/0,0/0', 'and nothing of the set was applied, nor recorded as failed');
is($node->safe_psql('postgres', 'SELECT count(*) FROM morgenmigrate.progress'),
	'0', 'and the progress view is empty');
$caller->quit;

# a terminated caller takes its workers along
$holder->query_safe('BEGIN; LOCK TABLE pg_catalog.pg_shdescription IN ACCESS EXCLUSIVE MODE');
$caller = $node->background_psql('postgres', on_error_stop => 0);
$caller_pid = $caller->query_safe('SELECT pg_backend_pid()');
$caller->query_until(qr/started/, "\\echo started\nCALL morgenmigrate.migrate_run('$slow', "
	  . "databases => ARRAY['slow_4', 'slow_5']);\n");
ok($node->poll_query_until('postgres', q{
	SELECT count(*) = 2 FROM morgenmigrate.progress WHERE filename = '001_wait.sql'}),
	'two workers wait on the lock');
$node->safe_psql('postgres', "SELECT pg_terminate_backend($caller_pid)");
ok($node->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'morgenmigrate fleet worker'"),
	'terminating the caller stops its workers');
$holder->query_safe('COMMIT');
is(join(',', map { $node->safe_psql($_, 'SELECT count(*) FROM morgenmigrate.schema_migrations') } qw(slow_4 slow_5)),
	'0,0', 'and they applied nothing');
eval { $caller->{run}->finish };
like($caller->{stderr}, qr/terminating connection due to administrator command/,
	'the caller was terminated');

# a worker that dies fails its database only; the caller does not wait for it
$holder->query_safe('BEGIN; LOCK TABLE pg_catalog.pg_shdescription IN ACCESS EXCLUSIVE MODE');
$caller = $node->background_psql('postgres', on_error_stop => 0);
$caller->query_until(qr/started/, "\\echo started\n\\set VERBOSITY verbose\n"
	  . "CALL morgenmigrate.migrate_run('$slow', databases => ARRAY['slow_1', 'slow_2', 'slow_3']);\n");
ok($node->poll_query_until('postgres', q{
	SELECT count(*) = 2 FROM morgenmigrate.progress WHERE filename = '001_wait.sql'
	   AND database IN ('slow_1', 'slow_2')}),
	'the first two databases wait on the lock');
$node->safe_psql('postgres', q{
	SELECT pg_terminate_backend(pid) FROM pg_stat_activity
	 WHERE backend_type = 'morgenmigrate fleet worker' AND datname = 'slow_1'});
ok($node->poll_query_until('postgres', q{
	SELECT count(*) = 2 FROM morgenmigrate.progress WHERE filename = '001_wait.sql'
	   AND database IN ('slow_2', 'slow_3')}),
	'once the worker of slow_1 is gone, slow_3 starts');
$holder->query_safe('COMMIT');
$caller->query('SELECT 1');
like($caller->{stderr},
	qr/ERROR:  57P01: migrations failed in 1 database of 3\nDETAIL:  Database "slow_1": terminating background worker "morgenmigrate fleet worker" due to administrator command \(SQLSTATE 57P01; migration "001_wait\.sql", line 2\)\./,
	'the call ends with the dead worker\'s database as failed');
is(join(',', map { $node->safe_psql($_, 'SELECT count(*) FROM morgenmigrate.schema_migrations') } qw(slow_1 slow_2 slow_3)),
	'0,1,1', 'and the others migrated');
$caller->quit;
$holder->quit;

# The caller's own database is run in the caller's session, before any
# worker starts: in morgenmigrate.progress it is the caller's own row (its
# pid, its database, migrate_run), and no worker runs yet; once the lock
# is let go, the other database's worker has a row of its own.
for my $db (qw(own_a own_b))
{
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, 'CREATE EXTENSION morgenmigrate');
}
$holder = $node->background_psql('postgres');
$holder->query_safe('BEGIN; LOCK TABLE pg_catalog.pg_shdescription IN ACCESS EXCLUSIVE MODE');
$caller = $node->background_psql('own_a', on_error_stop => 0);
$caller_pid = $caller->query_safe('SELECT pg_backend_pid()');
$caller->query_until(qr/started/, "\\echo started\n"
	  . "CALL morgenmigrate.migrate_run('$slow', databases => ARRAY['own_b', 'own_a']);\n");
ok($node->poll_query_until('postgres', q{
	SELECT count(*) = 1 FROM morgenmigrate.progress WHERE filename = '001_wait.sql'}),
	'the caller\'s own database waits on the lock');
is($node->safe_psql('postgres', q{
	SELECT string_agg(p.pid || '|' || p.database || '|' || p.operation || '|' || p.directory
	    || '|' || p.state || '|' || a.backend_type, ',')
	  FROM morgenmigrate.progress p JOIN pg_stat_activity a USING (pid)}),
	"$caller_pid|own_a|migrate_run|$slow|waiting for lock|client backend",
	'the progress view shows it as the caller\'s own row, and nothing else');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'morgenmigrate fleet worker'"),
	'0', 'no worker runs while the caller does its own database');
$holder->query_safe('COMMIT');
$caller->query('SELECT 1');
unlike($caller->{stderr}, qr/ERROR/, 'the call ends without an error');
is(join(',', map { $node->safe_psql($_, 'SELECT string_agg(filename, \',\') FROM morgenmigrate.schema_migrations') } qw(own_a own_b)),
	'001_wait.sql,001_wait.sql', 'and both databases are migrated');
is($node->safe_psql('postgres', 'SELECT count(*) FROM morgenmigrate.progress'),
	'0', 'the view is empty once the call ends');
$caller->quit;

# Concurrency: each database's run takes that database's migration lock.
# While a fleet call's workers wait inside their first file (on the lock
# the test holds), a second fleet call over the same databases and a
# CALL migrate_run in one of them wait for those locks (each shows in the
# view, waiting, no file yet); once the lock is let go all three end
# without an error, and each file ran once (a second run of 002 would fail:
# its table exists).
my $overlap = write_set("$base/overlap",
	'001_wait.sql' => "-- morgenmigrate: lock_timeout=0\nSELECT count(*) FROM pg_catalog.pg_shdescription;\n",
	'002_once.sql' => "CREATE TABLE once (id int);\n");
for my $db (qw(ov_a ov_b))
{
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, 'CREATE EXTENSION morgenmigrate');
}
$holder->query_safe('BEGIN; LOCK TABLE pg_catalog.pg_shdescription IN ACCESS EXCLUSIVE MODE');
my @overlapping;
for my $sql ("CALL morgenmigrate.migrate_run('$overlap', databases => ARRAY['ov_a', 'ov_b'])",
	"CALL morgenmigrate.migrate_run('$overlap', databases => ARRAY['ov_b', 'ov_a'])")
{
	my $s = $node->background_psql('postgres', on_error_stop => 0);
	$s->query_until(qr/started/, "\\echo started\n$sql;\n");
	push @overlapping, $s;
	# the first call's workers are inside their file before the second starts
	ok($node->poll_query_until('postgres', q{
		SELECT count(*) = 2 FROM morgenmigrate.progress WHERE filename = '001_wait.sql'}),
		'the first call\'s workers wait inside their first file') if @overlapping == 1;
}
my $single = $node->background_psql('ov_a', on_error_stop => 0);
$single->query_until(qr/started/, "\\echo started\nCALL morgenmigrate.migrate_run('$overlap');\n");
ok($node->poll_query_until('postgres', q{
	SELECT count(*) FILTER (WHERE filename = '001_wait.sql') = 2
	   AND count(*) FILTER (WHERE filename IS NULL AND state = 'waiting for lock') = 3
	  FROM morgenmigrate.progress WHERE database IN ('ov_a', 'ov_b')}),
	'the second call\'s workers and the run in ov_a wait for the databases\' migration locks');
$holder->query_safe('COMMIT');
for my $s (@overlapping, $single)
{
	$s->query('SELECT 1');
	unlike($s->{stderr}, qr/ERROR|WARNING/, 'each call ends without an error');
	$s->quit;
}
is(join(',', map { $node->safe_psql($_, q{
	SELECT string_agg(filename, ' ' ORDER BY filename) || ':' || (SELECT count(*) FROM morgenmigrate.migration_errors)
	  || ':' || (to_regclass('once') IS NOT NULL) FROM morgenmigrate.schema_migrations}) } qw(ov_a ov_b)),
	'001_wait.sql 002_once.sql:0:true,001_wait.sql 002_once.sql:0:true',
	'each database has each file once, and no failure');
$holder->quit;

# migrate_status keeps no row of its own: a database's rows go into the
# call's result as its worker sends them. While slow_2's worker waits on a
# lock of its history, slow_1's 5,000 rows have all arrived, and the
# caller's memory context of the call (logged by
# pg_log_backend_memory_contexts) holds none of them.
my $many = write_set("$base/many", map { (sprintf('%04d_step.sql', $_) => "SELECT 1;\n") } 1 .. 5000);
$holder = $node->background_psql('slow_2');
$holder->query_safe('BEGIN; LOCK TABLE morgenmigrate.schema_migrations IN ACCESS EXCLUSIVE MODE');
$caller = $node->background_psql('postgres', on_error_stop => 0);
$caller_pid = $caller->query_safe('SELECT pg_backend_pid()');
$caller->query_until(qr/started/, "\\echo started\n"
	  . "SELECT count(*) FROM morgenmigrate.migrate_status('$many', databases => ARRAY['slow_1', 'slow_2']);\n");
ok($node->poll_query_until('postgres', q{
	SELECT count(*) FILTER (WHERE datname = 'slow_2' AND wait_event_type = 'Lock') = 1
	   AND count(*) FILTER (WHERE datname = 'slow_1') = 0
	  FROM pg_stat_activity WHERE backend_type = 'morgenmigrate fleet worker'}),
	'slow_1\'s worker is done, slow_2\'s waits on the lock');
my $logstart = -s $node->logfile;
is($node->safe_psql('postgres', "SELECT pg_log_backend_memory_contexts($caller_pid)"), 't',
	'the caller is asked to log its memory contexts');
$node->wait_for_log(qr/morgenmigrate fleet of databases: \d+ total/, $logstart);
my ($fleet_bytes) = slurp_file($node->logfile, $logstart) =~ /morgenmigrate fleet of databases: (\d+) total/;
cmp_ok($fleet_bytes, '<', 64 * 1024,
	"the call's own memory holds none of slow_1's 5,000 rows ($fleet_bytes bytes)");
$holder->query_safe('COMMIT');
# slow_2's history has 001_wait.sql, which this set lacks: a row more
is($caller->query_safe('SELECT 1'), "10001\n1",
	'the call goes on and returns the rows of both');
$caller->quit;
$holder->quit;

# worker slots: the logical replication launcher takes one of them
$node->append_conf('postgresql.conf', "max_worker_processes = 2\n");
$node->restart;
is($node->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'logical replication launcher'"),
	'1', 'one slot of two is taken');
$node->safe_psql('slow_1', "CALL morgenmigrate.migrate_run('$slow', databases => ARRAY["
	  . join(',', map { "'$_'" } @slow) . "], max_parallel => 2)");
is(join(',', map { $node->safe_psql($_, 'SELECT count(*) FROM morgenmigrate.schema_migrations') } @slow),
	'1,1,1,1,1', 'with one slot free, the call waits for its own worker and migrates each database');

# no slot free: another call's worker holds the last one (waiting in its
# file on the lock the test holds), and none of this call's own runs. Each
# database of the call fails on its own, saying so, and is left as it was;
# the call that holds the slot goes on; once the slot is free, the same
# call migrates them. The set has no concurrent index build, which would
# need a slot of its own.
my $plain = write_set("$base/plain",
	'001_accounts.sql' => "CREATE TABLE accounts (id int PRIMARY KEY, note text);\n",
	'002_audit.sql' => "CREATE TABLE audit (id int);\n");
for my $db (qw(slot_held slot_a slot_b))
{
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, 'CREATE EXTENSION morgenmigrate');
}
$holder = $node->background_psql('postgres');
$holder->query_safe('BEGIN; LOCK TABLE pg_catalog.pg_shdescription IN ACCESS EXCLUSIVE MODE');
my $other = $node->background_psql('postgres', on_error_stop => 0);
$other->query_until(qr/started/, "\\echo started\n\\set VERBOSITY verbose\n"
	  . "CALL morgenmigrate.migrate_run('$slow', databases => ARRAY['slot_held']);\n");
ok($node->poll_query_until('postgres', q{
	SELECT count(*) = 1 FROM morgenmigrate.progress WHERE filename = '001_wait.sql' AND database = 'slot_held'}),
	'another call\'s worker holds the last free slot, waiting in its file');
my $slots_before = states(qw(slot_a slot_b));
is($slots_before, "slot_a=1|||\nslot_b=1|||", 'the call\'s databases have nothing applied');
($out, $err) = ('', '');
$rc = $node->psql('postgres',
	"\\set VERBOSITY verbose\nCALL morgenmigrate.migrate_run('$plain', databases => ARRAY['slot_b', 'slot_a'])",
	stdout => \$out, stderr => \$err);
isnt($rc, 0, 'with no slot free, the run fails (psql exits non-zero)');
like($err, qr/ERROR:  53000: migrations failed in 2 databases of 2\nDETAIL:  Database "slot_a": no background worker slot was free \(SQLSTATE 53000\)\. Database "slot_b": no background worker slot was free \(SQLSTATE 53000\)\.\n/,
	'one error names each database, saying no slot was free (53000)');
is(scalar(() = $err =~ /WARNING:  01000: migrations of database "slot_[ab]" failed: no background worker slot was free\n/g),
	2, 'a WARNING for each');
is(states(qw(slot_a slot_b)), $slots_before, 'and neither history nor schema changed in them');
is($node->safe_psql('postgres', qq{
	SELECT string_agg(database || ':' || coalesce(filename, '-') || ':' || state || ':' || error, ',')
	  FROM morgenmigrate.migrate_status('$plain', databases => ARRAY['slot_a'])}),
	'slot_a:-:unavailable:no background worker slot was free',
	'status: the database has one unavailable row saying why');
$err = refused('postgres', "SELECT morgenmigrate.migrate_check('$plain', databases => ARRAY['slot_a'])");
like($err, qr/ERROR:  55000: 1 database of 1 is not up to date with "\Q$plain\E" or could not be checked\nDETAIL:  Database "slot_a": no background worker slot was free \(SQLSTATE 53000\)\./,
	'check: names it, with its SQLSTATE');
$holder->query_safe('COMMIT');
$other->query('SELECT 1');
like($other->{stderr}, qr/NOTICE:  00000: migrations of database "slot_held" are done/,
	'the call that held the slot goes on');
unlike($other->{stderr}, qr/ERROR/, 'and ends without an error');
is($node->safe_psql('slot_held', 'SELECT string_agg(filename, \',\') FROM morgenmigrate.schema_migrations'),
	'001_wait.sql', 'and its database is migrated');
$other->quit;
$holder->quit;
$node->safe_psql('postgres', "CALL morgenmigrate.migrate_run('$plain', databases => ARRAY['slot_b', 'slot_a'])");
is(states(qw(slot_a slot_b)),
	join("\n", map { "$_=1|001_accounts.sql,002_audit.sql||accounts,accounts_pkey,audit" } qw(slot_a slot_b)),
	'with the slot free again, the same call migrates both');

done_testing();
