# The demo migration set, migrations/demo (the set scripts/demo.sh applies):
# it applies from empty; every down file undoes exactly its up file (the
# schema after rolling back to a file is the schema the first time that
# file was the last applied); rolling back to base and applying again gives
# the identical schema; the rollback calls of docs/operations.md do what it
# says; and the set's data migrations do what they say.
use strict;
use warnings;

use File::Copy qw(copy);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../perl";
use MorgenmigrateTest qw(guide_example);

my $node = PostgreSQL::Test::Cluster->new('demo');
$node->init;
$node->start;

# The set, copied where the test's server may read it.
my $demo = PostgreSQL::Test::Utils::tempdir() . '/demo';
mkdir $demo or die "mkdir $demo: $!";
my @files = sort glob('migrations/demo/*.sql');
copy($_, $demo) or die "copy $_: $!" for @files;
my @up = map { s{.*/}{}r } grep { !/\.down\.sql$/ } @files;
ok(@up >= 6, 'the demo set has at least six migrations');
for my $f (@up)
{
	(my $down = $f) =~ s/\.sql$/.down.sql/;
	ok(-f "$demo/$down", "$f has a down file");
}

# The application's schema, as pg_dump shows it.
sub schema
{
	my ($db) = @_;
	my ($stdout, $stderr) = PostgreSQL::Test::Utils::run_command(
		[ 'pg_dump', '--schema-only', '--schema=public', '-d', $node->connstr($db) ]);
	die "pg_dump failed: $stderr" if $stderr ne '';
	# pg_dump 15.14 and later fence the script with a random key
	$stdout =~ s/^\\(?:un)?restrict .*$//mg;
	return $stdout;
}

sub names
{
	my ($db, $sql) = @_;
	return $node->safe_psql($db, $sql);
}

$node->safe_psql('postgres', 'CREATE DATABASE demo');
$node->safe_psql('demo', 'CREATE EXTENSION morgenmigrate');
my $empty = schema('demo');

# Up one file at a time, remembering the schema after each.
my @after = ($empty);
for my $i (1 .. @up)
{
	is(names('demo', "SELECT string_agg(filename || ':' || status, ',') FROM morgenmigrate.migrate_apply('$demo', steps => 1)"),
		"$up[$i - 1]:applied", "$up[$i - 1] applies");
	push @after, schema('demo');
}
my $first = $after[-1];
like($first, qr/CREATE TABLE public\.standups/, 'the schema dump holds the demo tables');
like($first, qr/CREATE FUNCTION public\.standups_enforce_edit_window\(\)/,
	'and the trigger function');
is(names('demo', "SELECT count(*) FROM morgenmigrate.migrate_status('$demo') WHERE state <> 'applied'"),
	'0', 'migrate_status shows the whole set applied');

# Down one file at a time: each down file restores the schema before its
# up file.
for my $i (reverse 1 .. @up)
{
	is(names('demo', "SELECT string_agg(filename || ':' || status, ',') FROM morgenmigrate.migrate_rollback('$demo')"),
		"$up[$i - 1]:rolled back", "$up[$i - 1] rolls back");
	is(schema('demo'), $after[$i - 1],
		"after rolling back $up[$i - 1] the schema is as before it was applied");
}
is(names('demo', 'SELECT count(*) FROM morgenmigrate.schema_migrations'), '0',
	'the history is empty again');

# All at once: apply, roll back to base, apply again.
is(names('demo', "SELECT count(*) FROM morgenmigrate.migrate_apply('$demo')"),
	scalar(@up), 'the whole set applies in one call');
is(schema('demo'), $first, 'the schema is the same as when applied one by one');
is(names('demo', "SELECT string_agg(filename, ',') FROM morgenmigrate.migrate_rollback('$demo', target => 'base')"),
	join(',', reverse @up), 'migrate_rollback(target => base) rolls back every file, newest first');
is(schema('demo'), $empty, 'nothing of the demo set is left');
is(names('demo', "SELECT count(*) FROM morgenmigrate.migrate_apply('$demo')"),
	scalar(@up), 'the set applies again');
is(schema('demo'), $first, 'the schema after the second apply is identical to the first');

# The guide's three rollback calls (docs/operations.md), each from the
# whole set applied.
my @calls = grep { /migrate_rollback/ } split /\n/, guide_example('rollback-down-files');
is(scalar(@calls), 3, 'the guide shows three rollback calls');
for my $case (
	[ 'the last one', '008_feed_token.sql' ],
	[ 'the last three', '008_feed_token.sql,007_rbac.sql,006_standup_schedules.sql' ],
	[ 'to 005_mood', '008_feed_token.sql,007_rbac.sql,006_standup_schedules.sql' ])
{
	my ($what, $expect) = @$case;
	my $call = shift(@calls) =~ s{/srv/app/migrations}{$demo}gr =~ s/;\s*--.*$//r;
	$call =~ s/^SELECT \* FROM/SELECT string_agg(filename, ',') FROM/ or die "unexpected call: $call";
	is(names('demo', $call), $expect, "guide: rollback $what");
	is(names('demo', "SELECT count(*) FROM morgenmigrate.migrate_apply('$demo')"),
		scalar(split /,/, $expect), "guide: after rolling back $what the set applies again");
}
is(schema('demo'), $first, 'after the guide\'s rollbacks and applies the schema is the same');

# The data migrations, on data: a database with workspaces before 006.
$node->safe_psql('postgres', 'CREATE DATABASE data');
$node->safe_psql('data', 'CREATE EXTENSION morgenmigrate');
$node->safe_psql('data', "SELECT morgenmigrate.migrate_apply('$demo', target => '005')");
$node->safe_psql(
	'data', q{
INSERT INTO installations (team_id, team_name, bot_token, bot_user_id, installed_by)
VALUES ('T1', 'Acme', 'xoxb-1', 'B1', 'U1'), ('T2', 'Globex', 'xoxb-2', 'B2', 'U9');
INSERT INTO workspace_config (team_id, channel_id, standup_time, timezone)
VALUES ('T1', 'C1', '10:00', 'Europe/Berlin'), ('T2', NULL, '09:00', 'UTC');
INSERT INTO members (team_id, user_id, real_name)
VALUES ('T1', 'U1', 'Ada'), ('T1', 'U2', 'Grace'), ('T2', 'U3', 'Linus');
INSERT INTO standups (team_id, user_id, standup_date, today, submitted_at)
VALUES ('T1', 'U2', '2024-01-02', 'reviews', now() - interval '2 hours');
});
is(names('data', "SELECT string_agg(filename, ',') FROM morgenmigrate.migrate_apply('$demo')"),
	join(',', @up[5 .. $#up]), 'the rest of the set applies over existing data');
is(names('data', q(SELECT team_id || '|' || name || '|' || channel_id || '|' || standup_time || '|' || timezone || '|' || array_length(days, 1) FROM standup_schedules)),
	'T1|Daily standup|C1|10:00:00|Europe/Berlin|5',
	'006 moved the configured schedule into standup_schedules');
is(names('data', q(SELECT string_agg(team_id || user_id || ':' || role, ',' ORDER BY team_id, user_id) FROM members)),
	'T1U1:admin,T1U2:member,T2U3:member', '007 made each installer an admin');
is(names('data', q(SELECT count(DISTINCT feed_token) FROM workspace_config)),
	'2', '008 gave every workspace its own feed token');
my ($rc, $out, $err) = $node->psql('data', q(UPDATE standups SET today = 'late edit'));
like($err, qr/standup 1 can no longer be edited.*HINT:  The edit window is 60 minutes/s,
	'004\'s trigger refuses an edit after the window');
is(names('data', 'SELECT today FROM standups'), 'reviews', 'and the standup is unchanged');

$node->stop;
done_testing();
