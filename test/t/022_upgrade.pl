# ALTER EXTENSION morgenmigrate UPDATE from every released version keeps
# the history and leaves the same extension as a fresh install.
#
# The versions come from the installed extension itself: every version in
# pg_available_extension_versions and every morgenmigrate--A--B.sql upgrade
# script in the extension directory, so that a new version is covered as
# soon as its scripts are installed.  With 1.0 alone, the test still proves
# that 1.0 installs and works and that UPDATE is a no-op keeping the history.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../perl";
use MorgenmigrateTest qw(write_set);

# Compares two dotted version strings numerically (1.10 after 1.9).
sub version_cmp
{
	my @a = split /\./, $_[0];
	my @b = split /\./, $_[1];
	while (@a || @b)
	{
		my $x = shift(@a) // 0;
		my $y = shift(@b) // 0;
		my $c = ($x =~ /^\d+$/ && $y =~ /^\d+$/) ? $x <=> $y : $x cmp $y;
		return $c if $c;
	}
	return 0;
}

my $node = PostgreSQL::Test::Cluster->new('upgrade');
$node->init;
$node->start;

my $extdir = $node->config_data('--sharedir') . '/extension';
my @install_versions;
my @upgrades;
for my $path (sort glob("$extdir/morgenmigrate--*.sql"))
{
	my $file = $path =~ s{.*/}{}r;
	if ($file =~ /^morgenmigrate--(.+?)--(.+)\.sql$/)
	{
		push @upgrades, [ $1, $2 ];
	}
	elsif ($file =~ /^morgenmigrate--(.+)\.sql$/)
	{
		push @install_versions, $1;
	}
}
my @versions = sort { version_cmp($a, $b) } split /\n/,
  $node->safe_psql('postgres',
	q(SELECT version FROM pg_available_extension_versions WHERE name = 'morgenmigrate'));
my $default = $node->safe_psql('postgres',
	q(SELECT default_version FROM pg_available_extensions WHERE name = 'morgenmigrate'));
my $oldest = $versions[0];

note "extension directory: $extdir";
note "versions: @versions; default: $default; install scripts: @install_versions; "
  . "upgrade scripts: " . join(' ', map { "$_->[0]--$_->[1]" } @upgrades);

ok(scalar(@versions) >= 1, 'morgenmigrate has at least one available version');
ok((grep { $_ eq '1.0' } @versions), 'version 1.0 is available');
ok((grep { $_ eq $default } @versions), "the default version $default is available");
is(version_cmp($versions[-1], $default), 0,
	'the default version is the newest one');
for my $up (@upgrades)
{
	ok((grep { $_ eq $up->[0] } @versions) && (grep { $_ eq $up->[1] } @versions),
		"upgrade script $up->[0]--$up->[1] joins two available versions");
}
# Every older version can reach the default one.
for my $v (@versions)
{
	next if $v eq $default;
	isnt(
		$node->safe_psql('postgres',
			qq(SELECT path FROM pg_extension_update_paths('morgenmigrate')
			   WHERE source = '$v' AND target = '$default')),
		'', "there is an update path from $v to $default");
}

my $base = PostgreSQL::Test::Utils::tempdir();
# Applied before the update.
my $before = write_set(
	"$base/before",
	'001_teams.sql' => "CREATE TABLE teams (id int PRIMARY KEY, name text NOT NULL);\n",
	'002_members.sql' =>
	  "CREATE TABLE members (id int PRIMARY KEY, team_id int REFERENCES teams);\n");
# Fails before the update: a recorded failure that must survive it.
my $broken = write_set("$base/broken",
	'900_broken.sql' => "ALTER TABLE no_such_table ADD COLUMN x int;\n");
# Used after the update: the same files, one more, and its down file.
my $after = write_set(
	"$base/after",
	'003_members_email.sql' => "ALTER TABLE members ADD COLUMN email text;\n",
	'003_members_email.down.sql' => "ALTER TABLE members DROP COLUMN email;\n");
system('cp', glob("$before/*.sql"), $after) == 0 or die "cp: $?";

# The history as text: every column of every row (of migration_errors,
# 1.0's columns: one that a later version adds is new, not a change).
sub history
{
	my ($db) = @_;
	return $node->safe_psql($db,
		'SELECT * FROM morgenmigrate.schema_migrations ORDER BY filename')
	  . "\n---\n"
	  . $node->safe_psql($db,
		'SELECT filename, failed_at, sqlstate, message, detail, hint, line'
		  . ' FROM morgenmigrate.migration_errors ORDER BY filename');
}

# What the extension consists of: its member objects, function
# definitions and rights, table definitions, comments and dumped tables.
sub extension_shape
{
	my ($db) = @_;
	return $node->safe_psql(
		$db, q{
SELECT 'member ' || pg_describe_object(classid, objid, objsubid)
FROM pg_depend
WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'morgenmigrate')
UNION ALL
SELECT 'function ' || p.oid::regprocedure || ' ' || pg_get_functiondef(p.oid)
       || ' acl ' || coalesce(p.proacl::text, 'default')
       || ' comment ' || coalesce(obj_description(p.oid, 'pg_proc'), '')
FROM pg_proc p WHERE p.pronamespace = 'morgenmigrate'::regnamespace
UNION ALL
SELECT 'column ' || a.attrelid::regclass || '.' || a.attname || ' '
       || format_type(a.atttypid, a.atttypmod) || ' notnull=' || a.attnotnull
       || ' default=' || coalesce(pg_get_expr(d.adbin, d.adrelid), '')
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE c.relnamespace = 'morgenmigrate'::regnamespace AND c.relkind = 'r'
  AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'constraint ' || conrelid::regclass || ' ' || conname || ' '
       || pg_get_constraintdef(oid)
FROM pg_constraint WHERE connamespace = 'morgenmigrate'::regnamespace
UNION ALL
SELECT 'index ' || pg_get_indexdef(indexrelid)
FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
WHERE c.relnamespace = 'morgenmigrate'::regnamespace
UNION ALL
SELECT 'table ' || c.oid::regclass || ' acl ' || coalesce(c.relacl::text, 'default')
       || ' comment ' || coalesce(obj_description(c.oid, 'pg_class'), '')
FROM pg_class c WHERE c.relnamespace = 'morgenmigrate'::regnamespace
  AND c.relkind = 'r'
UNION ALL
SELECT 'dumped ' || x.cfg::regclass || ' where ' || coalesce(e.extcondition[x.n], '')
FROM pg_extension e, unnest(e.extconfig) WITH ORDINALITY AS x(cfg, n)
WHERE e.extname = 'morgenmigrate'
UNION ALL
SELECT 'extension relocatable=' || extrelocatable || ' schema=' || extnamespace::regnamespace
FROM pg_extension WHERE extname = 'morgenmigrate'
ORDER BY 1});
}

# Every function of the extension, used once after an update.
sub check_functions
{
	my ($db, $label) = @_;
	is( $node->safe_psql($db,
			"SELECT string_agg(filename || ':' || status, ',') FROM morgenmigrate.migrate_apply('$after', dry_run => true)"),
		'003_members_email.sql:rehearsed', "$label: migrate_apply dry_run rehearses");
	is( $node->safe_psql($db,
			"SELECT string_agg(filename || ':' || status, ',') FROM morgenmigrate.migrate_apply('$after')"),
		'003_members_email.sql:applied', "$label: migrate_apply applies the new file");
	is( $node->safe_psql($db,
			"SELECT string_agg(filename || ':' || state, ',') FROM morgenmigrate.migrate_status('$after')"),
		'001_teams.sql:applied,002_members.sql:applied,003_members_email.sql:applied',
		"$label: migrate_status(dir) shows everything applied");
	my ($rc, $out, $err) =
	  $node->psql($db, "SELECT morgenmigrate.migrate_check('$after')");
	is($rc, 0, "$label: migrate_check passes");
	is( $node->safe_psql($db,
			"SELECT string_agg(filename || ':' || status, ',') FROM morgenmigrate.migrate_rollback('$after')"),
		'003_members_email.sql:rolled back', "$label: migrate_rollback runs the down file");
	is( $node->safe_psql($db,
			q(SELECT count(*) FROM information_schema.columns WHERE table_name = 'members' AND column_name = 'email')),
		'0', "$label: the down file dropped the column");
	$node->safe_psql($db, "CALL morgenmigrate.migrate_run('$after')");
	is( $node->safe_psql($db,
			q(SELECT kind FROM morgenmigrate.schema_migrations WHERE filename = '003_members_email.sql')),
		'applied', "$label: CALL migrate_run applies it again");
	$node->safe_psql($db, q(SELECT morgenmigrate.migrate_forget('003_members_email.sql')));
	is( $node->safe_psql($db, "SELECT morgenmigrate.migrate_baseline('$after')"),
		'1', "$label: migrate_forget and migrate_baseline work");
	is( $node->safe_psql($db,
			"SELECT string_agg(filename || ':' || action, ',') FROM morgenmigrate.migrate_repair('$after')"),
		'900_broken.sql:failure cleared', "$label: migrate_repair clears the old failure");
	is( $node->safe_psql($db,
			q(SELECT string_agg(filename || ':' || state, ',') FROM morgenmigrate.migrate_status())),
		'001_teams.sql:applied,002_members.sql:applied,003_members_email.sql:baseline',
		"$label: migrate_status() shows the history");
}

# Installs version $from in a new database, migrates, updates (to $to, or
# to the default with UPDATE alone), and checks what must survive.
my $dbno = 0;
sub update_case
{
	my ($from, $to) = @_;
	my $db = 'upd' . ++$dbno;
	my $label = defined $to ? "$from--$to" : "$from to default";
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, "CREATE EXTENSION morgenmigrate VERSION '$from'");
	is($node->safe_psql($db, q(SELECT extversion FROM pg_extension WHERE extname = 'morgenmigrate')),
		$from, "$label: version $from installs");
	$node->safe_psql($db, "SELECT morgenmigrate.migrate_apply('$before')");
	$node->safe_psql($db,
		"SELECT * FROM morgenmigrate.migrate_apply('$broken', atomic => false)");
	my $history = history($db);
	like($history, qr/^001_teams\.sql\|.*\n002_members\.sql\|.*\n---\n900_broken\.sql\|/s,
		"$label: $from recorded the applied files and the failure");

	my ($rc, $out, $err) = $node->psql($db,
		'ALTER EXTENSION morgenmigrate UPDATE' . (defined $to ? " TO '$to'" : ''));
	is($rc, 0, "$label: ALTER EXTENSION UPDATE succeeds");
	my $expect = $to // $default;
	is($node->safe_psql($db, q(SELECT extversion FROM pg_extension WHERE extname = 'morgenmigrate')),
		$expect, "$label: the extension is at version $expect");
	if ($from eq $expect)
	{
		like($err, qr/version "\Q$from\E" of extension "morgenmigrate" is already installed/,
			"$label: UPDATE is a no-op");
	}
	is(history($db), $history, "$label: the history and the failures survived unchanged");
	return $db;
}

# The shape of a fresh install of the default version, for comparison.
$node->safe_psql('postgres', 'CREATE DATABASE fresh');
$node->safe_psql('fresh', 'CREATE EXTENSION morgenmigrate');
my $fresh_shape = extension_shape('fresh');
like($fresh_shape, qr/member function morgenmigrate\.migrate_apply\(/,
	'the shape query sees the extension\'s functions');

# From the oldest version (1.0 today) with UPDATE to the default.
is($oldest, '1.0', 'the oldest version is 1.0');
my $db = update_case($oldest);
is(extension_shape($db), $fresh_shape,
	"$oldest updated to $default is the same extension as a fresh $default");
check_functions($db, "$oldest to default");

# From every other version to the default.
for my $v (@versions)
{
	next if $v eq $oldest;
	my $d = update_case($v);
	is(extension_shape($d), $fresh_shape,
		"$v updated to $default is the same extension as a fresh $default");
	check_functions($d, "$v to default");
}

# Every upgrade script on its own.
for my $up (@upgrades)
{
	my ($from, $to) = @$up;
	my $d = update_case($from, $to);
	$node->safe_psql('postgres', "CREATE DATABASE fresh_$dbno");
	$node->safe_psql("fresh_$dbno", "CREATE EXTENSION morgenmigrate VERSION '$to'");
	is(extension_shape($d), extension_shape("fresh_$dbno"),
		"$from--$to gives the same extension as a fresh $to");
}

$node->stop;
done_testing();
