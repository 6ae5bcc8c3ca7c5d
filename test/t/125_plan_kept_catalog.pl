# A session keeps the classification of its last plan (what each statement
# does to which relation, under which lock) while the catalog cannot have
# changed; only the sizes and the sessions in the way are read on every
# call.  Whatever changes in the catalog between two plans of one session,
# made by another session or by this one, committed or not yet, must show
# in the second plan as in a new session: a valid CHECK (v IS NOT NULL)
# added or dropped, a column's type changed, an index created, a
# function's volatility changed (no relation changes then), a schema
# created that a name now resolves to.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../perl";
use MorgenmigrateTest qw(write_set);

my $node = PostgreSQL::Test::Cluster->new('plan_kept');
$node->init;
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION morgenmigrate;
	CREATE TABLE kept (id int PRIMARY KEY, v int, code varchar(20), w int);
	INSERT INTO kept SELECT g, g, 'c' || g, g FROM generate_series(1, 1000) g;
	CREATE FUNCTION kept_default() RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT 1';
});

my $base = PostgreSQL::Test::Utils::tempdir();
my $dir = write_set("$base/kept",
	'001_v_not_null.sql' => "ALTER TABLE kept ALTER COLUMN v SET NOT NULL;\n",
	'002_code_text.sql' => "ALTER TABLE kept ALTER COLUMN code TYPE text;\n",
	'003_w_index.sql' => "CREATE INDEX IF NOT EXISTS kept_w ON kept (w);\n",
	'004_d_default.sql' => "ALTER TABLE kept ADD COLUMN d int DEFAULT kept_default();\n");

# the plan as one line, a row of every column each, the effect last
my $plan = "SELECT string_agg(concat_ws(' ', filename, line, command, coalesce(relation::text, '-'),"
  . " coalesce(lock_mode, '-'), relation_bytes, blocks, blockers, advice, effect), E'\\n'"
  . " ORDER BY filename, line, relation::text)"
  . " FROM morgenmigrate.migrate_plan('$dir')";
my $kept = "SELECT count(*) FROM pg_backend_memory_contexts WHERE name = 'morgenmigrate kept plan'";

# The effect of each file in a plan's line.
sub effects
{
	my ($line) = @_;
	my %effect;
	for (split /\n/, $line)
	{
		my @f = split / /;
		$effect{ $f[0] } = $f[-1];
	}
	return \%effect;
}

my $session = $node->background_psql('postgres');
# a plan taken from the kept classification says so at DEBUG1
my $used = qr/DEBUG:  migrate_plan of "[^"]*": the classification of the session's last plan is used/;
# (for the whole session: the settings are part of what a plan is kept
# under; and without the statements logged to the client at that level)
$session->query_safe("SET log_statement = 'none'");
$session->query_safe('SET client_min_messages = debug1');
my $other = $node->background_psql('postgres');

# Plans in the session, checks that the kept plan was there to be used (so
# that the check below is not of a plan made anew anyway), and that the plan
# is a new session's.
sub plan_after_change
{
	my ($what) = @_;
	my ($line, $from_kept) = plan_used_kept();
	ok(!$from_kept, "$what: the plan is made anew, not taken from the kept one");
	is($line, $node->safe_psql('postgres', $plan), "$what: the plan is a new session's");
	return effects($line);
}

# A query of the session, which fails on an error (and not on the DEBUG
# lines the session asks for).
sub session_query
{
	my ($query) = @_;
	$session->{stderr} = '';
	my $out = $session->query($query);
	die "query failed: $session->{stderr}" if $session->{stderr} =~ /ERROR|FATAL/;
	return $out;
}

# Plans in the session and tells whether the kept classification was used.
sub plan_used_kept
{
	my ($query) = @_;
	my $line = session_query($query // $plan);
	return ($line, scalar($session->{stderr} =~ $used));
}

my $first_line = session_query($plan);
my $first = effects($first_line);
is(session_query($kept), '0', 'the first plan of a directory in a session is not kept');
is(session_query($plan), $first_line, 'the second plan gives the same rows');
is(session_query($kept), '1', 'and is kept');
my ($kept_line, $from_kept) = plan_used_kept();
is($kept_line, $first_line, 'the kept plan gives the same rows');
ok($from_kept, 'and the third plan is taken from it, not made anew');
is($first_line, $node->safe_psql('postgres', $plan), 'as a new session');
is($first->{'001_v_not_null.sql'}, 'scan', 'SET NOT NULL reads every row');
is($first->{'002_code_text.sql'}, 'catalog', 'varchar to text changes the catalog only');
is($first->{'003_w_index.sql'}, 'index', 'the index is built');
is($first->{'004_d_default.sql'}, 'catalog', 'an immutable default is stored once');

# another session's changes, each seen by the next plan of the session
is(session_query($kept), '1', 'kept before the CHECK');
$other->query_safe('ALTER TABLE kept ADD CONSTRAINT kept_v_set CHECK (v IS NOT NULL)');
is(plan_after_change('a CHECK added by another session')->{'001_v_not_null.sql'},
	'catalog', 'SET NOT NULL uses the valid CHECK');

is(session_query($kept), '1', 'kept before the type change');
$other->query_safe('ALTER TABLE kept ALTER COLUMN code TYPE int USING length(code)');
is(plan_after_change('a column type changed by another session')->{'002_code_text.sql'},
	'rewrite', 'int to text rewrites the table');

is(session_query($kept), '1', 'kept before the index');
$other->query_safe('CREATE INDEX kept_w ON kept (w)');
my $indexed = plan_after_change('an index created by another session');
is($indexed->{'003_w_index.sql'}, 'catalog', 'IF NOT EXISTS of an existing index builds nothing');

is(session_query($kept), '1', 'kept before the function');
$other->query_safe(
	q{CREATE OR REPLACE FUNCTION kept_default() RETURNS int LANGUAGE sql VOLATILE AS 'SELECT 1'});
is(plan_after_change('a function made volatile by another session')->{'004_d_default.sql'},
	'rewrite', 'a volatile default rewrites the table');

# a change not committed yet is not seen; once committed, it is
is(session_query($kept), '1', 'kept before the open transaction');
$other->query_safe('BEGIN');
$other->query_safe('ALTER TABLE kept DROP CONSTRAINT kept_v_set');
is(effects(session_query($plan))->{'001_v_not_null.sql'}, 'catalog',
	'a CHECK dropped in a transaction still open counts still');
$other->query_safe('COMMIT');
is(plan_after_change('a CHECK dropped by another session')->{'001_v_not_null.sql'},
	'scan', 'SET NOT NULL reads every row again');

# a name that now resolves to a table of another schema
is(session_query($kept), '1', 'kept before the schema');
session_query('SET search_path = shadow, public');
session_query($plan);
is(session_query($kept), '1', 'kept under the new search_path');
$other->query_safe(
	'CREATE SCHEMA shadow; CREATE TABLE shadow.kept (id int, v int NOT NULL, code text, w int)');
is(session_query("SELECT bool_and(relation = 'shadow.kept'::regclass)"
	  . " FROM morgenmigrate.migrate_plan('$dir') WHERE filename = '001_v_not_null.sql'"),
	't', 'a schema created by another session: the name resolves to its table');
session_query('RESET search_path');
$other->query_safe('DROP TABLE shadow.kept; DROP SCHEMA shadow');

# this session's own changes, in a transaction, and rolled back
session_query($plan);
is(session_query($kept), '1', 'kept before the transaction');
session_query('BEGIN');
is(effects(session_query($plan))->{'001_v_not_null.sql'}, 'scan',
	'in a transaction that has written nothing, the kept plan');
session_query('ALTER TABLE kept ADD CONSTRAINT kept_v_set CHECK (v IS NOT NULL)');
is(effects(session_query($plan))->{'001_v_not_null.sql'}, 'catalog',
	'a CHECK this transaction added counts');
session_query(
	q{CREATE OR REPLACE FUNCTION kept_default() RETURNS int LANGUAGE sql STABLE AS 'SELECT 1'});
is(effects(session_query($plan))->{'004_d_default.sql'}, 'catalog',
	'a function this transaction made stable counts');
session_query('ROLLBACK');
my $rolled_back = effects(session_query($plan));
is($rolled_back->{'001_v_not_null.sql'}, 'scan', 'rolled back: the CHECK is gone');
is($rolled_back->{'004_d_default.sql'}, 'rewrite', 'and the function volatile again');

# and committed
is(session_query($kept), '1', 'kept before the own change');
session_query(
	q{CREATE OR REPLACE FUNCTION kept_default() RETURNS int LANGUAGE sql STABLE AS 'SELECT 1'});
is(plan_after_change('a function made stable by this session')->{'004_d_default.sql'},
	'catalog', 'a stable default is evaluated once');

# a kept plan follows the settings too: a time zone decides whether
# timestamp to timestamptz rewrites
$node->safe_psql('postgres', 'CREATE TABLE stamps (id int, at timestamp)');
my $tz = write_set("$base/tz",
	'001_at_tz.sql' => "ALTER TABLE stamps ALTER COLUMN at TYPE timestamptz;\n");
my $tz_plan = "SELECT effect FROM morgenmigrate.migrate_plan('$tz')";
session_query("SET TimeZone = 'UTC'");
is(session_query($tz_plan), 'catalog', 'in UTC, timestamp to timestamptz changes the catalog only');
is(session_query($tz_plan), 'catalog', 'twice');
is(session_query($kept), '1', 'kept before the time zone changes');
my ($tz_line, $tz_kept) = plan_used_kept($tz_plan);
is($tz_line, 'catalog', 'from the kept plan');
ok($tz_kept, 'which is used');
session_query("SET TimeZone = 'Europe/Berlin'");
($tz_line, $tz_kept) = plan_used_kept($tz_plan);
is($tz_line, 'rewrite', 'in another time zone it rewrites');
ok(!$tz_kept, 'the plan kept in UTC is not used');

$other->quit;
$session->quit;
$node->stop;
done_testing();
