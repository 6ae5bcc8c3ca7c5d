# A newly installed library serves databases still on an older version's
# SQL definitions: after the library of this version is installed and
# before ALTER EXTENSION ... UPDATE, every function of every older version
# works against it.  The versions come from the installed extension
# directory (every morgenmigrate--X.sql but the default version's).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../perl";
use MorgenmigrateTest qw(write_set);

my $node = PostgreSQL::Test::Cluster->new('old_catalog');
$node->init;
$node->start;

my $default = $node->safe_psql('postgres',
	q(SELECT default_version FROM pg_available_extensions WHERE name = 'morgenmigrate'));
my @older = grep { $_ ne $default } split /\n/,
  $node->safe_psql('postgres',
	q(SELECT version FROM pg_available_extension_versions WHERE name = 'morgenmigrate' ORDER BY version));
ok(scalar(@older) > 0, "older versions than $default are installed: @older");

my $base = PostgreSQL::Test::Utils::tempdir();
my $dir = write_set("$base/set",
	'001_create_notes.sql' => "CREATE TABLE notes (id int PRIMARY KEY);\n",
	'001_create_notes.down.sql' => "DROP TABLE notes;\n",
	'002_add_body.sql' => "ALTER TABLE notes ADD COLUMN body text;\n",
	'002_add_body.down.sql' => "ALTER TABLE notes DROP COLUMN body;\n");
my $locked = write_set("$base/locked",
	'001_notes_tag.sql' => "-- morgenmigrate: lock_timeout=100ms retries=0\n"
	  . "ALTER TABLE notes ADD COLUMN tag text;\n");

for my $version (@older)
{
	my $db = "v" . ($version =~ s/\W/_/gr);
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, "CREATE EXTENSION morgenmigrate VERSION '$version'");
	my $q = sub { $node->safe_psql($db, $_[0]) };

	is($q->("SELECT string_agg(filename || ':' || status, ',' ORDER BY filename) FROM morgenmigrate.migrate_apply('$dir', dry_run => true)"),
		'001_create_notes.sql:rehearsed,002_add_body.sql:rehearsed', "$version: migrate_apply(dry_run)");
	is($q->("SELECT count(*) FROM morgenmigrate.migrate_apply('$dir', steps => 1)"),
		'1', "$version: migrate_apply");
	is($q->("SELECT string_agg(filename || ':' || state, ',' ORDER BY filename) FROM morgenmigrate.migrate_status('$dir')"),
		'001_create_notes.sql:applied,002_add_body.sql:pending', "$version: migrate_status(dir)");
	is($q->("SELECT count(*) FROM morgenmigrate.migrate_status()"), '1', "$version: migrate_status()");
	my ($rc, $out, $err) = $node->psql($db, "SELECT morgenmigrate.migrate_check('$dir')");
	like($err, qr/1 migration of .* is not applied as it stands/, "$version: migrate_check");
	$q->("CALL morgenmigrate.migrate_run('$dir')");
	is($q->("SELECT count(*) FROM morgenmigrate.schema_migrations"), '2', "$version: migrate_run");
	is($q->("SELECT string_agg(filename, ',') FROM morgenmigrate.migrate_rollback('$dir', 1)"),
		'002_add_body.sql', "$version: migrate_rollback");
	is($q->("SELECT morgenmigrate.migrate_baseline('$dir')"), '1', "$version: migrate_baseline");
	$q->("SELECT morgenmigrate.migrate_forget('002_add_body.sql')");
	is($q->("SELECT count(*) FROM morgenmigrate.schema_migrations"), '1', "$version: migrate_forget");
	is($q->("SELECT count(*) FROM morgenmigrate.migrate_repair('$dir')"), '0', "$version: migrate_repair");

	# a lock timeout's failure is recorded without 1.1's blockers column:
	# who blocked it is in the detail
	my $holder = $node->background_psql($db);
	$holder->query_safe('BEGIN; LOCK TABLE notes IN ACCESS SHARE MODE');
	is($q->("SELECT status FROM morgenmigrate.migrate_apply('$locked', atomic => false)"),
		'failed', "$version: a lock timeout in a non-atomic apply");
	like($q->('SELECT detail FROM morgenmigrate.migration_errors'),
		qr/^The lock was held by pid \d+ /, "$version: its failure names who held the lock");
	$holder->query_safe('COMMIT');
	$holder->quit;
	$q->('DELETE FROM morgenmigrate.migration_errors');

	# and the update keeps the history
	$q->("ALTER EXTENSION morgenmigrate UPDATE");
	is($q->("SELECT extversion FROM pg_extension WHERE extname = 'morgenmigrate'"),
		$default, "$version: updated to $default");
	is($q->("SELECT string_agg(filename || ':' || state, ',' ORDER BY filename) FROM morgenmigrate.migrate_status('$dir')"),
		'001_create_notes.sql:applied,002_add_body.sql:pending', "$version: the history is kept");
}

$node->stop;
done_testing();
