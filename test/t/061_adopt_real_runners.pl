# migrate_adopt after the real runners: dbmate, node-pg-migrate and
# postgrator-cli (npm, installed by scripts/test.sh into
# /var/cache/morgenmigrate/npm; MorgenmigrateTest's runner_command runs
# them), Sqitch and Alembic (Debian's packages; a Sqitch or Alembic project
# first goes through scripts/sqitch-to-migrations or
# scripts/alembic-to-migrations).  For each: the runner applies the whole
# set to one database and the first two migrations to another; the README's
# "Switching from" example for the runner, run as it stands there, adopts
# the second and applies the rest; nothing runs twice (every fixture
# migration fails if run again) and the two schemas are the same (pg_dump
# --schema-only, the runners' own tables left out).
use strict;
use warnings;

use FindBin;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use lib "$FindBin::Bin/../perl";
use MorgenmigrateTest qw(readme_example superuser runner_missing runner_command run_command
  dump_schema);

my $src = "$FindBin::Bin/../..";
my $fixtures = "$src/migrations/adopt";
# Without a runner this file is skipped, saying which runners are missing
# (scripts/test.sh installs them all); the other files still run.
my @missing = grep { defined } map { runner_missing($_) } ('dbmate', 'node-pg-migrate', 'postgrator', 'sqitch');
push @missing, 'python3 with alembic and psycopg2'
  unless system(q{/usr/bin/python3 -c 'import alembic, psycopg2' 2>/dev/null}) == 0;
plan skip_all => 'the runners are not installed: ' . join('; ', @missing)
  if @missing;

my $node = PostgreSQL::Test::Cluster->new('real');
$node->init;
$node->start;
my $host = $node->host;
my $port = $node->port;
my $super = superuser();
my $tmp = PostgreSQL::Test::Utils::tempdir();

# Runs a command in a directory with libpq's variables set; dies on failure.
sub run_ok
{
	my ($what, $dir, $cmd, %env) = @_;
	my ($ok, $out, $err) = run_command($dir, $cmd, PGHOST => $host, PGPORT => $port,
		PGUSER => $super, PYTHONDONTWRITEBYTECODE => 1, %env);
	ok($ok, $what) or diag("$out\n$err");
	return $out;
}

# The same with one of the real runners (MorgenmigrateTest's runner_command).
sub runner_ok
{
	my ($what, %a) = @_;
	my ($cmd, %env) = runner_command(node => $node, %a);
	return run_ok($what, $tmp, $cmd, %env);
}

# A copy of the first N migration files of a flat directory, as the runner
# saw the set before the team switched.
sub first_files
{
	my ($dir, $n) = @_;
	my $copy = "$tmp/" . ($dir =~ s{.*/}{}r) . "-first$n";
	mkdir $copy or die;
	my @files = (sort grep { -f "$dir/$_" } map { s{.*/}{}r } glob("$dir/*"))[ 0 .. $n - 1 ];
	for my $f (@files)
	{
		PostgreSQL::Test::Utils::append_to_file("$copy/$f", slurp_file("$dir/$f"));
	}
	return $copy;
}

# The schema of a database without the tables of the runner.
sub schema
{
	my ($db, @exclude) = @_;
	return dump_schema($node, $db, @exclude);
}

# One runner: WHOLE applies everything to database NAME_whole and PART the
# first two migrations to NAME_part; then the README's example for the
# runner switches NAME_part to morgenmigrate with DIR (and PROJECT, a
# Sqitch project or an alembic.ini); the two databases are compared.
sub adopt_after
{
	my (%t) = @_;
	my $name = $t{name};
	# NAME_part, as the runner left it, lacks the extension: the example
	# creates it
	$node->safe_psql('postgres', "CREATE DATABASE ${name}_whole");
	$node->safe_psql("${name}_whole", 'CREATE EXTENSION morgenmigrate');
	$node->safe_psql('postgres', "CREATE DATABASE ${name}_part");
	$t{whole}->("${name}_whole");
	$t{part}->("${name}_part");

	my $example = readme_example(
		"switch-$t{runner}", "${name}_part",
		'/srv/app/migrations' => $t{dir},
		($t{project} ? (($t{project} =~ /\.ini$/ ? '/srv/app/alembic.ini' : '/srv/app/sqitch') => $t{project}) : ()));
	run_ok("$name: the README's example runs", $src, [ 'sh', '-e', '-c', $example ]);
	my @files = @{ $t{files} };
	is($node->safe_psql("${name}_part",
			q(SELECT string_agg(filename || ':' || kind, ',' ORDER BY filename)
			  FROM morgenmigrate.schema_migrations)),
		"$files[0]:adopted,$files[1]:adopted,$files[2]:applied,$files[3]:applied",
		"$name: the two migrations it applied are adopted, the other two applied, none twice");
	my $whole = schema("${name}_whole", @{ $t{exclude} });
	my $part = schema("${name}_part", @{ $t{exclude} });
	like($whole, qr/CREATE FUNCTION public\.member_count/, "$name: the dump has the schema");
	is($part, $whole, "$name: the schema equals the whole set applied by $name");
}

# dbmate 2.x: a URL with the socket directory; no schema.sql dump.
{
	my $dir = "$fixtures/dbmate";
	my $dbmate = sub {
		my ($set, $db) = @_;
		runner_ok("dbmate migrates $db", runner => 'dbmate', db => $db, dir => $set, action => 'up');
	};
	adopt_after(
		name => 'dbmate',
		runner => 'dbmate',
		dir => $dir,
		whole => sub { $dbmate->($dir, @_) },
		part => sub { $dbmate->(first_files($dir, 2), @_) },
		files => [ '20240101000001_create_teams.sql', '20240101000002_create_members.sql',
			'20240101000003_add_member_roles.sql', '20240101000004_create_member_count.sql' ],
		exclude => ['public.schema_migrations']);
}

# node-pg-migrate: DATABASE_URL with the socket directory.
{
	my $dir = "$fixtures/node-pg-migrate";
	my $npgm = sub {
		my ($set, $db) = @_;
		runner_ok("node-pg-migrate migrates $db", runner => 'node-pg-migrate', db => $db, dir => $set,
			action => 'up');
	};
	adopt_after(
		name => 'npgm',
		runner => 'node-pg-migrate',
		dir => $dir,
		whole => sub { $npgm->($dir, @_) },
		part => sub { $npgm->(first_files($dir, 2), @_) },
		files => [ '1700000000001_create-teams.sql', '1700000000002_create-members.sql',
			'1700000000003_add-member-roles.sql', '1700000000004_create-member-count.sql' ],
		exclude => [ 'public.pgmigrations', 'public.pgmigrations_id_seq' ]);
}

# postgrator-cli: a target version.
{
	my $dir = "$fixtures/postgrator";
	my $postgrator = sub {
		my ($target, $db) = @_;
		runner_ok("postgrator migrates $db to $target", runner => 'postgrator', db => $db, dir => $dir,
			action => $target);
	};
	adopt_after(
		name => 'postgrator',
		runner => 'postgrator',
		dir => $dir,
		whole => sub { $postgrator->('max', @_) },
		part => sub { $postgrator->('2', @_) },
		files => [ '001.do.create-teams.sql', '002.do.create-members.sql',
			'003.do.add-member-roles.sql', '004.do.create-member-count.sql' ],
		exclude => ['public.schemaversion']);
}

# Sqitch: deploy the project, convert it, adopt sqitch.changes.
{
	my $project = "$fixtures/sqitch";
	my $dir = "$tmp/sqitch-migrations";
	my $sqitch = sub {
		my ($db, @to) = @_;
		run_ok("sqitch deploys to $db", $project, [ 'sqitch', 'deploy', @to, "db:pg:$db" ],
			SQITCH_FULLNAME => 'Test Deployer', SQITCH_EMAIL => 'deployer@example.com');
	};
	adopt_after(
		name => 'sqitch',
		runner => 'sqitch',
		project => $project,
		dir => $dir,
		whole => sub { $sqitch->(@_) },
		part => sub { $sqitch->(@_, '--to-change', 'create_members') },
		files => [ '0001_create_teams.sql', '0002_create_members.sql',
			'0003_add_member_roles.sql', '0004_create_member_count.sql' ],
		exclude => ['sqitch']);
}

# sqitch-to-migrations refuses a plan that reworks a change.
{
	my $reworked = "$tmp/sqitch-reworked";
	mkdir $reworked or die;
	PostgreSQL::Test::Utils::append_to_file("$reworked/sqitch.plan",
		slurp_file("$fixtures/sqitch/sqitch.plan")
		  . "create_teams [create_teams\@v1.0] 2024-01-05T10:00:00Z Test Writer <writer\@example.com> # rework\n");
	my ($o, $e) = ('', '');
	ok(!IPC::Run::run([ "$src/scripts/sqitch-to-migrations", $reworked, "$tmp/reworked-out" ],
			'>', \$o, '2>', \$e),
		'sqitch-to-migrations refuses a reworked change');
	like($e, qr/^sqitch-to-migrations: .*sqitch\.plan, line 10: change create_teams is reworked/,
		'sqitch-to-migrations: and names it and its line');
	ok(!-e "$tmp/reworked-out", 'sqitch-to-migrations: nothing was written');
}

# Alembic: upgrade online, convert with the offline mode, adopt
# alembic_version.
{
	my $ini = "$fixtures/alembic/alembic.ini";
	my $dir = "$tmp/alembic-migrations";
	my $alembic = sub {
		my ($rev, $db) = @_;
		run_ok("alembic upgrades $db to $rev", $tmp,
			[ '/usr/bin/python3', '-m', 'alembic', '-c', $ini, 'upgrade', $rev ],
			DATABASE_URL => "postgresql+psycopg2://$super\@/$db?host=$host&port=$port");
	};
	adopt_after(
		name => 'alembic',
		runner => 'alembic',
		project => $ini,
		dir => $dir,
		whole => sub { $alembic->('head', @_) },
		part => sub { $alembic->('8e4d0c6f2a13', @_) },
		files => [ '0001_3f1c2a9b7d01.sql', '0002_8e4d0c6f2a13.sql',
			'0003_b72e95d1c4a8.sql', '0004_0c5a7e3b9f26.sql' ],
		exclude => ['public.alembic_version']);

	is(join(',', map { s{.*/}{}r } sort glob("$dir/*.sql")),
		'0001_3f1c2a9b7d01.down.sql,0001_3f1c2a9b7d01.sql,0002_8e4d0c6f2a13.down.sql,0002_8e4d0c6f2a13.sql,'
		  . '0003_b72e95d1c4a8.down.sql,0003_b72e95d1c4a8.sql,0004_0c5a7e3b9f26.down.sql,0004_0c5a7e3b9f26.sql',
		'alembic-to-migrations: one file per revision, in revision order, with down files');
	unlike(slurp_file("$dir/0001_3f1c2a9b7d01.sql"), qr/alembic_version|BEGIN|COMMIT/,
		'alembic-to-migrations: without Alembic\'s bookkeeping');

	# the down files roll back what the offline mode wrote
	is($node->safe_psql('alembic_part',
			"SELECT string_agg(filename, ',') FROM morgenmigrate.migrate_rollback('$dir', target => 'base')"),
		'0004_0c5a7e3b9f26.sql,0003_b72e95d1c4a8.sql,0002_8e4d0c6f2a13.sql,0001_3f1c2a9b7d01.sql',
		'alembic: the down files roll everything back');

	# several heads are refused
	my $branched = "$tmp/alembic-branched";
	mkdir $branched or die;
	mkdir "$branched/versions" or die;
	PostgreSQL::Test::Utils::append_to_file("$branched/alembic.ini",
		slurp_file($ini) =~ s/^script_location = .*$/script_location = $branched/mr);
	PostgreSQL::Test::Utils::append_to_file("$branched/env.py", slurp_file("$fixtures/alembic/env.py"));
	for my $rev ([ 'aaaa00000001', 'None' ], [ 'bbbb00000002', '"aaaa00000001"' ],
		[ 'cccc00000003', '"aaaa00000001"' ])
	{
		PostgreSQL::Test::Utils::append_to_file("$branched/versions/$rev->[0].py",
			qq{revision = "$rev->[0]"\ndown_revision = $rev->[1]\n\n\n}
			  . qq{def upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n});
	}
	my ($o, $e) = ('', '');
	local $ENV{PYTHONDONTWRITEBYTECODE} = 1;
	my $ok = IPC::Run::run([ "$src/scripts/alembic-to-migrations", "$branched/alembic.ini", "$tmp/branched-out" ],
		'>', \$o, '2>', \$e);
	ok(!$ok, 'alembic-to-migrations refuses a project with two heads');
	like($e, qr/^alembic-to-migrations: the project has 2 heads \(bbbb00000002, cccc00000003\); morgenmigrate needs one line of revisions/,
		'alembic-to-migrations: and names them');
	ok(!-e "$tmp/branched-out", 'alembic-to-migrations: nothing was written');
}

$node->stop;
done_testing();
