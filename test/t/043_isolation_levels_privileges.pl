# Who may migrate, under which isolation level, from which directories, and
# whether a caller's search_path can change the extension's own queries
#.  Every refusal is checked for its SQLSTATE, a message that
# names the problem, and that nothing changed.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../perl";
use MorgenmigrateTest qw(superuser);

my $node = PostgreSQL::Test::Cluster->new('privileges');
$node->init;
$node->start;
my $super = superuser();
$node->safe_psql('postgres', 'CREATE EXTENSION morgenmigrate');

my $base = PostgreSQL::Test::Utils::tempdir();
my $dir = "$base/allowed/app";
mkdir "$base/allowed";
mkdir $dir;
PostgreSQL::Test::Utils::append_to_file("$dir/001_create_priv_accounts.sql",
	"CREATE TABLE priv_accounts (id integer PRIMARY KEY);\n");
PostgreSQL::Test::Utils::append_to_file("$dir/001_create_priv_accounts.down.sql",
	"DROP TABLE priv_accounts;\n");
PostgreSQL::Test::Utils::append_to_file("$dir/002_fill_priv_accounts.sql",
	"INSERT INTO priv_accounts VALUES (1), (2);\n");
PostgreSQL::Test::Utils::append_to_file("$dir/002_fill_priv_accounts.down.sql",
	"DELETE FROM priv_accounts;\n");

# Runs SQL as a role with verbose errors; returns (rc, stdout, stderr).
sub run_as
{
	my ($role, $sql) = @_;
	my ($out, $err);
	my $rc = $node->psql('postgres', $sql,
		stdout => \$out, stderr => \$err,
		extra_params => [ '-U', $role, '-v', 'VERBOSITY=verbose' ]);
	return ($rc, $out, $err);
}

# What a call could have changed: the history, recorded failures, tables.
my $state_q = q{
	SELECT (SELECT coalesce(string_agg(filename || '/' || applied_by || '/' || kind, ',' ORDER BY filename), '')
	          FROM morgenmigrate.schema_migrations) || ';' ||
	       (SELECT count(*) FROM morgenmigrate.migration_errors) || ';' ||
	       (SELECT count(*) FROM pg_class WHERE relname LIKE 'priv\_%' AND relkind = 'r')};

# Asserts that running $sql as $role fails with $sqlstate and a message
# matching $msg, and that nothing changed.
sub refused
{
	my ($role, $sql, $sqlstate, $msg, $what) = @_;
	my $before = $node->safe_psql('postgres', $state_q);
	my ($rc, $out, $err) = run_as($role, $sql);
	isnt($rc, 0, "$what: refused");
	like($err, qr/ERROR:  $sqlstate: $msg/, "$what: $sqlstate, the message names the problem");
	is($node->safe_psql('postgres', $state_q), $before, "$what: nothing changed");
}

my $apply = "SELECT filename FROM morgenmigrate.migrate_apply('$dir')";

# ---- isolation levels ----------------------------------------------------

my %writers = (
	migrate_apply => "SELECT * FROM morgenmigrate.migrate_apply('$dir')",
	migrate_rollback => "SELECT * FROM morgenmigrate.migrate_rollback('$dir')",
	migrate_baseline => "SELECT morgenmigrate.migrate_baseline('$dir')",
	migrate_repair => "SELECT * FROM morgenmigrate.migrate_repair('$dir')",
	migrate_forget => "SELECT morgenmigrate.migrate_forget('001_create_priv_accounts.sql')",
);
for my $level ('REPEATABLE READ', 'SERIALIZABLE')
{
	for my $f (sort keys %writers)
	{
		refused($super, "BEGIN ISOLATION LEVEL $level;\n$writers{$f};\nCOMMIT;",
			'25000', qr/\Q$f\E\(\) requires the READ COMMITTED isolation level/,
			"$f under $level");
	}
	refused($super,
		"SET default_transaction_isolation = '" . lc($level) . "';\n$apply;",
		'25000', qr/migrate_apply\(\) requires the READ COMMITTED isolation level/,
		"migrate_apply with default_transaction_isolation $level");
}
refused($super, "BEGIN READ ONLY;\n$apply;\nCOMMIT;",
	'25006', qr/cannot execute migrate_apply\(\) in a read-only transaction/,
	'migrate_apply in a read-only transaction');
my ($rc, $out, $err) = run_as($super,
	"BEGIN ISOLATION LEVEL REPEATABLE READ;\n"
	  . "SELECT filename, state FROM morgenmigrate.migrate_status('$dir');\n"
	  . "SELECT morgenmigrate.migrate_check('$dir');\nCOMMIT;");
like($out, qr/001_create_priv_accounts.sql\|pending/,
	'migrate_status, which only reads, works under REPEATABLE READ');

# ---- privileges ------------------------------------------------------------

$node->safe_psql('postgres', q{
	CREATE ROLE plain LOGIN;
	CREATE ROLE executor LOGIN;
	CREATE ROLE reader LOGIN IN ROLE pg_read_server_files;
	CREATE ROLE migrator LOGIN IN ROLE pg_read_server_files;
	GRANT USAGE ON SCHEMA morgenmigrate TO plain, executor, reader, migrator;
	GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA morgenmigrate TO executor, migrator;
	GRANT EXECUTE ON ALL PROCEDURES IN SCHEMA morgenmigrate TO executor, migrator;
	GRANT CREATE ON SCHEMA public TO migrator;
});

refused('plain', $apply, '42501', qr/permission denied for function migrate_apply/,
	'a plain role (no EXECUTE)');
refused('plain', "SELECT * FROM morgenmigrate.migrate_status()", '42501',
	qr/permission denied for function migrate_status/,
	'a plain role reading the history through migrate_status()');
refused('reader', $apply, '42501', qr/permission denied for function migrate_apply/,
	'pg_read_server_files without EXECUTE');
refused('executor', $apply, '42501', qr/permission denied to read migration files/,
	'EXECUTE without pg_read_server_files');
($rc, $out, $err) = run_as('executor', $apply);
like($err, qr/DETAIL:  Only roles with privileges of the "pg_read_server_files" role may read migration files\./,
	'EXECUTE without pg_read_server_files: the detail names the role to grant');
refused('executor', "CALL morgenmigrate.migrate_run('$dir')", '42501',
	qr/permission denied to read migration files/,
	'migrate_run with EXECUTE but without pg_read_server_files');
refused('executor', "SELECT * FROM morgenmigrate.migrate_status('$dir')", '42501',
	qr/permission denied to read migration files/,
	'migrate_status(dir) with EXECUTE but without pg_read_server_files');

# both, but no privileges on the history tables yet
refused('migrator', $apply, '42501', qr/permission denied for table schema_migrations/,
	'EXECUTE and pg_read_server_files without SELECT on the history');
$node->safe_psql('postgres', q{
	GRANT SELECT ON morgenmigrate.schema_migrations, morgenmigrate.migration_errors TO migrator});
refused('migrator', $apply, '42501', qr/permission denied for table schema_migrations/,
	'SELECT on the history but no INSERT: the files ran, the record failed, all rolled back');

# the least that migrate_apply needs: SELECT on both tables, INSERT on
# schema_migrations (plus what the migrations themselves do: CREATE on public)
$node->safe_psql('postgres', 'GRANT INSERT ON morgenmigrate.schema_migrations TO migrator');
($rc, $out, $err) = run_as('migrator', $apply);
is($rc, 0, 'with EXECUTE, pg_read_server_files, SELECT and INSERT the role applies');
is($out, "001_create_priv_accounts.sql\n002_fill_priv_accounts.sql", 'both files applied');
is($node->safe_psql('postgres', $state_q),
	'001_create_priv_accounts.sql/migrator/applied,002_fill_priv_accounts.sql/migrator/applied;0;1',
	'the history records the role as applied_by');
refused('migrator', "SELECT * FROM morgenmigrate.migrate_rollback('$dir')", '42501',
	qr/permission denied for table schema_migrations/,
	'rollback without DELETE on schema_migrations');

# the full set for every function: SELECT, INSERT, UPDATE, DELETE on both
$node->safe_psql('postgres', q{
	GRANT SELECT, INSERT, UPDATE, DELETE
	   ON morgenmigrate.schema_migrations, morgenmigrate.migration_errors TO migrator});
($rc, $out, $err) = run_as('migrator', qq{
	SELECT filename, status FROM morgenmigrate.migrate_rollback('$dir');
	SELECT morgenmigrate.migrate_forget('001_create_priv_accounts.sql');
	SELECT morgenmigrate.migrate_baseline('$dir', '1');
	UPDATE morgenmigrate.schema_migrations SET checksum = 'x';
	SELECT filename, action FROM morgenmigrate.migrate_repair('$dir');
	SELECT morgenmigrate.migrate_check('$dir');
});
like($err, qr/ERROR:  55000: 1 migration of .* is not applied as it stands/,
	'with the full set the role rolls back, forgets, baselines, repairs and checks');
is($out,
	"002_fill_priv_accounts.sql|rolled back\n\n1\n001_create_priv_accounts.sql|checksum updated",
	'each of those calls did its work');
PostgreSQL::Test::Utils::append_to_file("$dir/003_fails_for_migrator.sql",
	"SELECT 1/0;\n");
($rc, $out, $err) = run_as('migrator',
	"SELECT filename, status FROM morgenmigrate.migrate_apply('$dir', atomic => false)");
like($out, qr/003_fails_for_migrator.sql\|failed/,
	'a non-atomic failure is recorded with the full set');
is( $node->safe_psql('postgres',
		'SELECT filename, sqlstate FROM morgenmigrate.migration_errors'),
	'003_fails_for_migrator.sql|22012', 'the recorded failure is there');
unlink "$dir/003_fails_for_migrator.sql";
run_as('migrator', "SELECT * FROM morgenmigrate.migrate_repair('$dir')");
is($node->safe_psql('postgres', 'SELECT count(*) FROM morgenmigrate.migration_errors'),
	'0', 'and the role clears it with migrate_repair');
$node->safe_psql('postgres', 'DROP TABLE priv_accounts; TRUNCATE morgenmigrate.schema_migrations');

# ---- morgenmigrate.allowed_directories ------------------------------------

my $outside = "$base/outside";
mkdir $outside;
mkdir "$outside/app";
PostgreSQL::Test::Utils::append_to_file("$outside/app/001_create_priv_outside.sql",
	"CREATE TABLE priv_outside (id integer);\n");
PostgreSQL::Test::Utils::append_to_file("$outside/evil.sql",
	"CREATE TABLE priv_evil (id integer);\n");
# a directory that shares the allowed one's name as a prefix
mkdir "$base/allowed_not";
PostgreSQL::Test::Utils::append_to_file("$base/allowed_not/001_create_priv_prefix.sql",
	"CREATE TABLE priv_prefix (id integer);\n");
# links inside the allowed directory that point out of it
symlink("$outside/app", "$base/allowed/link_to_outside")
  or die "symlink: $!";
mkdir "$base/allowed/with_evil_link";
PostgreSQL::Test::Utils::append_to_file("$base/allowed/with_evil_link/001_create_priv_fine.sql",
	"CREATE TABLE priv_fine (id integer);\n");
symlink("$outside/evil.sql", "$base/allowed/with_evil_link/002_linked_from_outside.sql")
  or die "symlink: $!";

$node->append_conf('postgresql.conf',
	"morgenmigrate.allowed_directories = '$base/allowed'\n");
$node->reload;

my $outside_msg = qr/migration directory ".*" is outside morgenmigrate.allowed_directories/;
for my $role ($super, 'migrator')
{
	refused($role, "SELECT * FROM morgenmigrate.migrate_apply('$outside/app')",
		'42501', $outside_msg, "$role: a directory outside the allowed one");
	refused($role, "SELECT * FROM morgenmigrate.migrate_apply('$base/allowed/../outside/app')",
		'42501', $outside_msg, "$role: allowed/../outside");
	refused($role, "SELECT * FROM morgenmigrate.migrate_apply('$dir/../../outside/app')",
		'42501', $outside_msg, "$role: allowed/app/../../outside");
	refused($role, "SELECT * FROM morgenmigrate.migrate_apply('$base/allowed_not')",
		'42501', $outside_msg, "$role: a sibling whose name starts like the allowed one");
	refused($role, "SELECT * FROM morgenmigrate.migrate_apply('$base/allowed/link_to_outside')",
		'42501', $outside_msg, "$role: a link in the allowed directory to a directory outside");
	refused($role, "SELECT * FROM morgenmigrate.migrate_status('$base/allowed/link_to_outside')",
		'42501', $outside_msg, "$role: migrate_status through that link");
	refused($role, "SELECT * FROM morgenmigrate.migrate_apply('$base/allowed/with_evil_link')",
		'42501', qr/migration file ".*002_linked_from_outside.sql" is outside morgenmigrate.allowed_directories/,
		"$role: a file linked from outside, in an allowed directory (the file before it is not applied either)");
}
($rc, $out, $err) = run_as('migrator', "SELECT * FROM morgenmigrate.migrate_apply('$base/allowed/link_to_outside')");
like($err, qr/is outside morgenmigrate\.allowed_directories/, 'a link out is refused');
unlike($err, qr/DETAIL|\Q$outside\E/,
	'the refusal says nothing of where the link leads');

($rc, $out, $err) = run_as('migrator', $apply);
is($out, '001_create_priv_accounts.sql
002_fill_priv_accounts.sql', 'a directory below the allowed one applies');
($rc, $out, $err) = run_as('migrator', "SELECT count(*) FROM morgenmigrate.migrate_status('$base/allowed')");
is($rc, 0, 'the allowed directory itself may be read');

# only a superuser sets it: in the session after the module is loaded, ...
refused('migrator',
	"SELECT count(*) FROM morgenmigrate.migrate_status();\n"
	  . "SET morgenmigrate.allowed_directories = '/';\n"
	  . "SELECT * FROM morgenmigrate.migrate_apply('$outside/app');",
	'42501', qr/permission denied to set parameter "morgenmigrate.allowed_directories"/,
	'a non-superuser cannot SET allowed_directories');
# ... before it is loaded (a placeholder), ...
($rc, $out, $err) = run_as('migrator',
	"SET morgenmigrate.allowed_directories = '/';\n"
	  . "SELECT * FROM morgenmigrate.migrate_apply('$outside/app');");
like($err, qr/ERROR:  42501: migration directory ".*" is outside morgenmigrate.allowed_directories/,
	'a placeholder set by a non-superuser before the module loads does not widen the list');
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_class WHERE relname = 'priv_outside'"),
	'0', 'and nothing was applied from outside');
# ... and not with ALTER ROLE either
($rc, $out, $err) = run_as('migrator',
	"ALTER ROLE migrator SET morgenmigrate.allowed_directories = '/'");
isnt($rc, 0, 'a non-superuser cannot ALTER ROLE ... SET allowed_directories');
like($err, qr/permission denied to set parameter "morgenmigrate.allowed_directories"/,
	'ALTER ROLE: the message names the setting');
is( $node->safe_psql('postgres',
		"SELECT count(*) FROM pg_db_role_setting WHERE array_to_string(setconfig, ',') LIKE '%allowed_directories%'"),
	'0', 'no role setting was stored');
# a superuser can; an entry that is not an absolute path allows nothing
refused($super, "SET morgenmigrate.allowed_directories = 'relative/dir,$base/allowed';\n"
	  . $apply,
	'22023', qr/"relative\/dir" in morgenmigrate.allowed_directories is not an absolute path\nDETAIL:  Until it is fixed, no directory is allowed\./,
	'a relative entry in allowed_directories (fails closed)');
($rc, $out, $err) = run_as($super,
	"SET morgenmigrate.allowed_directories = '$outside';\n"
	  . "SELECT filename FROM morgenmigrate.migrate_apply('$outside/app');");
is($out, '001_create_priv_outside.sql', 'a superuser may widen the list for a session');
$node->safe_psql('postgres', q{
	DROP TABLE priv_accounts, priv_outside;
	TRUNCATE morgenmigrate.schema_migrations});

# ---- a hijacking search_path ------------------------------------------------

# now(), "=" on text and friends planted in public, first on the path: the
# history rows must still be right and each query must touch one row only
$node->safe_psql('postgres', q{
	CREATE FUNCTION public.now() RETURNS timestamptz
	    LANGUAGE sql AS $$ SELECT timestamptz '2000-01-01 00:00:00+00' $$;
	CREATE FUNCTION public.clock_timestamp() RETURNS timestamptz
	    LANGUAGE sql AS $$ SELECT timestamptz '2000-01-01 00:00:00+00' $$;
	CREATE FUNCTION public.always_equal(text, text) RETURNS boolean
	    LANGUAGE sql AS $$ SELECT true $$;
	CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = text,
	    FUNCTION = public.always_equal);
	CREATE FUNCTION public.lower(text) RETURNS text
	    LANGUAGE sql AS $$ SELECT 'hijacked' $$;
	GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO migrator;
});
my $hijack = "SET search_path = public, pg_catalog;\n";
($rc, $out, $err) = run_as('migrator', $hijack
	  . "SELECT 'x' = 'y' AS planted_operator_active;\n"
	  . "SELECT filename FROM morgenmigrate.migrate_apply('$dir');\n"
	  . "SELECT morgenmigrate.migrate_forget('002_fill_priv_accounts.sql');\n"
	  . "UPDATE morgenmigrate.schema_migrations SET checksum = 'x' WHERE filename OPERATOR(pg_catalog.=) '001_create_priv_accounts.sql';\n"
	  . "SELECT filename, action FROM morgenmigrate.migrate_repair('$dir');\n");
is($err, '', 'the calls with the planted objects on search_path succeed');
is($out, "t\n001_create_priv_accounts.sql\n002_fill_priv_accounts.sql\n\n001_create_priv_accounts.sql|checksum updated",
	'the planted "=" was active in the session, and the calls report the right files');
is( $node->safe_psql('postgres', q{
		SELECT string_agg(filename || '/' || kind || '/' ||
		                  (applied_at > pg_catalog.now() - interval '1 hour') || '/' ||
		                  (checksum OPERATOR(pg_catalog.~) '^[0-9a-f]{64}$'), ',')
		  FROM morgenmigrate.schema_migrations}),
	'001_create_priv_accounts.sql/applied/true/true',
	'migrate_forget removed only its row, applied_at is the real clock, the checksum is real');
$node->safe_psql('postgres', 'DROP OPERATOR public.= (text, text)');

$node->stop;
done_testing();
