# pg_dump and pg_restore keep the migration history: a
# migrated database dumped in plain and in custom format and restored into
# a new database has every history row and every recorded failure, exactly;
# migrate_status(dir) there shows everything applied, and migrate_apply(dir)
# does nothing.  Also the rollback of a raw-SQL runner's runbook, "restore the backup taken
# before the upgrade", in both of its forms: into a recreated database (the
# history and the schema go back together) and with pg_restore --clean over
# the upgraded database (objects created after the backup stay behind).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../perl";
use MorgenmigrateTest qw(write_set);

my $node = PostgreSQL::Test::Cluster->new('dump');
$node->init;
$node->start;

my $base = PostgreSQL::Test::Utils::tempdir();
my $app = write_set(
	"$base/app",
	'001_installations.sql' => <<'SQL',
CREATE TABLE installations (
    team_id    text PRIMARY KEY,
    bot_token  text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
SQL
	'002_members.sql' => <<'SQL',
CREATE TABLE members (
    team_id text NOT NULL REFERENCES installations,
    user_id text NOT NULL,
    PRIMARY KEY (team_id, user_id)
);
SQL
	'003_seed.sql' => <<'SQL',
INSERT INTO installations (team_id, bot_token) VALUES ('T1', 'xoxb-1'), ('T2', 'xoxb-2');
INSERT INTO members VALUES ('T1', 'U1'), ('T1', 'U2'), ('T2', 'U3');
SQL
	'004_role.sql' => <<'SQL');
ALTER TABLE members ADD COLUMN role text NOT NULL DEFAULT 'member';
SQL

# A second set whose only file fails: a recorded failure, nothing applied.
my $experiment = write_set("$base/experiment",
	'900_experiment.sql' =>
	  "-- a typo in a table name\nALTER TABLE memberz ADD COLUMN x int;\n");

$node->safe_psql('postgres', 'CREATE DATABASE app');
$node->safe_psql('app', 'CREATE EXTENSION morgenmigrate');
# Two calls, so that the history has more than one applied_at moment.
$node->safe_psql('app', "SELECT morgenmigrate.migrate_apply('$app', target => '002')");
$node->safe_psql('app', "SELECT morgenmigrate.migrate_apply('$app')");
$node->safe_psql('app',
	"SELECT * FROM morgenmigrate.migrate_apply('$experiment', atomic => false)");

# Everything a restore must bring back, as text.
sub snapshot
{
	my ($db) = @_;
	return join(
		"\n---\n",
		$node->safe_psql($db,
			'SELECT * FROM morgenmigrate.schema_migrations ORDER BY filename'),
		$node->safe_psql($db,
			'SELECT * FROM morgenmigrate.migration_errors ORDER BY filename'),
		$node->safe_psql($db,
			"SELECT * FROM morgenmigrate.migrate_status('$app')"),
		$node->safe_psql($db,
			"SELECT * FROM morgenmigrate.migrate_status('$experiment')"),
		$node->safe_psql($db,
			'SELECT * FROM members ORDER BY team_id, user_id'));
}

my $before = snapshot('app');
is( $node->safe_psql('app', 'SELECT count(*) FROM morgenmigrate.schema_migrations'),
	'4', 'the source database has four history rows');
is( $node->safe_psql('app',
		'SELECT filename, sqlstate, line FROM morgenmigrate.migration_errors'),
	'900_experiment.sql|42P01|2',
	'the source database has a recorded failure');

my $plain = "$base/app.sql";
my $custom = "$base/app.dump";
$node->command_ok([ 'pg_dump', '--format=plain', '--file', $plain, 'app' ],
	'pg_dump in plain format');
$node->command_ok([ 'pg_dump', '--format=custom', '--file', $custom, 'app' ],
	'pg_dump in custom format');

# A dump limited to the application's schema leaves out the extension and
# its history (docs/operations.md says to dump the whole database).
my ($public_dump) = PostgreSQL::Test::Utils::run_command(
	[ 'pg_dump', '--schema=public', '-d', $node->connstr('app') ]);
like($public_dump, qr/CREATE TABLE public\.members/, 'a --schema=public dump holds the application');
unlike($public_dump, qr/schema_migrations|morgenmigrate/,
	'but neither the extension nor its history');

# Checks a restored database against the source.
sub check_restored
{
	my ($db, $how) = @_;
	is(snapshot($db), $before,
		"$how: history rows, failures, status and data are identical");
	is( $node->safe_psql($db,
			"SELECT string_agg(state, ',') FROM morgenmigrate.migrate_status('$app')"),
		'applied,applied,applied,applied',
		"$how: migrate_status(dir) shows every file applied");
	is( $node->safe_psql($db,
			"SELECT count(*) FROM morgenmigrate.migrate_apply('$app')"),
		'0', "$how: migrate_apply(dir) returns no rows");
	is( $node->safe_psql($db, 'SELECT count(*) FROM morgenmigrate.schema_migrations'),
		'4', "$how: migrate_apply(dir) recorded nothing");
	my ($rc, $out, $err) =
	  $node->psql($db, "SELECT morgenmigrate.migrate_check('$app')");
	is($rc, 0, "$how: migrate_check(dir) passes");
	($rc, $out, $err) =
	  $node->psql($db, "SELECT morgenmigrate.migrate_check('$experiment')");
	like($err, qr/Failed: 900_experiment\.sql/,
		"$how: migrate_check still reports the recorded failure");
}

$node->safe_psql('postgres', 'CREATE DATABASE restored_plain TEMPLATE template0');
$node->command_ok(
	[
		'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', 'restored_plain',
		'-f', $plain
	],
	'the plain dump restores with psql');
check_restored('restored_plain', 'plain format');

$node->safe_psql('postgres', 'CREATE DATABASE restored_custom TEMPLATE template0');
$node->command_ok(
	[ 'pg_restore', '--exit-on-error', '-d', 'restored_custom', $custom ],
	'the custom dump restores with pg_restore');
check_restored('restored_custom', 'custom format');

# The rollback of a raw-SQL runner's runbook: restore the backup taken before an upgrade.
# The new release: the same files and one more.
my $upgrade = write_set("$base/upgrade",
	'005_webhooks.sql' => "CREATE TABLE webhooks (id int PRIMARY KEY, url text NOT NULL);\n");
system('cp', glob("$app/*.sql"), $upgrade) == 0 or die "cp: $?";

# (a) Into a recreated database: schema and history go back together, and
# applying the new release again works.
$node->safe_psql('app', "SELECT morgenmigrate.migrate_apply('$upgrade')");
is( $node->safe_psql('app', q(SELECT to_regclass('public.webhooks') IS NOT NULL)),
	't', 'the upgrade created its table');
$node->safe_psql('postgres', 'DROP DATABASE app');
$node->safe_psql('postgres', 'CREATE DATABASE app TEMPLATE template0');
$node->command_ok([ 'pg_restore', '--exit-on-error', '-d', 'app', $custom ],
	'the backup restores into the recreated database');
is(snapshot('app'), $before, 'the recreated database is back to the backup');
is( $node->safe_psql('app',
		"SELECT string_agg(filename || ':' || state, ',') FROM morgenmigrate.migrate_status('$upgrade')"),
	'001_installations.sql:applied,002_members.sql:applied,003_seed.sql:applied,004_role.sql:applied,005_webhooks.sql:pending',
	'after the restore the upgrade\'s file is pending again');
is( $node->safe_psql('app', "SELECT string_agg(filename, ',') FROM morgenmigrate.migrate_apply('$upgrade')"),
	'005_webhooks.sql', 'and applies again');

# (b) pg_restore --clean over the upgraded database drops and recreates
# what the backup holds, history included, but a table created after the
# backup stays: the history says pending, the table exists, and applying
# fails.  The guide therefore restores into a recreated database.
$node->command_ok(
	[ 'pg_restore', '--clean', '--if-exists', '--exit-on-error', '-d', 'app', $custom ],
	'pg_restore --clean over the upgraded database');
is( $node->safe_psql('app',
		"SELECT state FROM morgenmigrate.migrate_status('$upgrade') WHERE filename = '005_webhooks.sql'"),
	'pending', 'after --clean the history is back to the backup');
is( $node->safe_psql('app', q(SELECT to_regclass('public.webhooks') IS NOT NULL)),
	't', 'but the table created after the backup is still there');
my ($rc, $out, $err) =
  $node->psql('app', "SELECT morgenmigrate.migrate_apply('$upgrade')");
like($err, qr/relation "webhooks" already exists.*migration "005_webhooks\.sql", line 1/s,
	'so applying the upgrade again fails on it');

$node->stop;
done_testing();
