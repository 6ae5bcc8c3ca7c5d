# migrate_status(dir) and migrate_check(dir) answer from a directory's
# proof: where a no-op migrate_apply would answer from it, every migration
# is applied as it is, and status returns the history's rows in the order
# the proof kept (the order the call listed the files in, which is the
# runner's order, not the order of the names).  Each case keeps a proof,
# then shows that status answers from it and returns, row for row, what
# status returns with the proof deleted (the long way), and that
# migrate_check passes either way; and after a change, that both go the
# long way and answer as it.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../perl";
use MorgenmigrateTest qw(write_old_file proof_way proof_call proof_both);

my $node = PostgreSQL::Test::Cluster->new('dirproof_status');
$node->init;
$node->start;

my $base = PostgreSQL::Test::Utils::tempdir();
my %dirs;

# A case: its own database and directory of files (name => text).
sub make_case
{
	my ($name, %files) = @_;
	my $dir = "$base/$name";
	mkdir $dir or die "$dir: $!";
	write_old_file("$dir/$_", $files{$_}) foreach keys %files;
	$node->safe_psql('postgres', "CREATE DATABASE $name");
	$node->safe_psql($name, 'CREATE EXTENSION morgenmigrate');
	$dirs{$name} = $dir;
	return $dir;
}

sub status_sql
{
	my ($name) = @_;
	return "SELECT filename, state, applied_at, duration, checksum, error "
	  . "FROM morgenmigrate.migrate_status('$dirs{$name}')";
}

sub check_sql
{
	my ($name) = @_;
	return "SELECT morgenmigrate.migrate_check('$dirs{$name}')";
}

# A new session's migrate_status (or $sql) in a transaction rolled back
# after it, $pre run first in it: (the way it went, its rows and messages).
sub status
{
	my ($name, $pre, $sql) = @_;
	return proof_call($node, $name, $pre // '', $sql // status_sql($name));
}

# migrate_status as it is, and with the proof deleted: the way the first
# went and its answer, after checking the two answers are the same.
sub same_status
{
	my ($name, $what, $pre, $sql) = @_;
	my ($way, $with, $without) =
	  proof_both($node, $name, $pre // '', $sql // status_sql($name));
	is($with, $without, "$name, $what: " . ($sql ? 'check' : 'status')
		. ' answers as the long way answers');
	return ($way, $with);
}

# A no-op migrate_apply in a new session, committed: the way it went.
sub apply_way
{
	my ($name) = @_;
	my ($rc, $out, $err) = $node->psql($name,
		"SET client_min_messages = debug1;\n"
		  . "SELECT count(*) FROM morgenmigrate.migrate_apply('$dirs{$name}');\n");
	die "apply failed: $err" if $rc != 0;
	return proof_way($err);
}

my $t = sub { "CREATE TABLE $_[0] (id int);\n" };

# Sets whose runner orders them otherwise than by name: numbers without
# leading zeros ("10_" sorts before "1_" by name), Flyway's dotted
# versions and its repeatable scripts last, goose and sql-migrate numbers.
make_case('plain', '001_a.sql' => $t->('a'), '002_b.sql' => $t->('b'),
	'003_c.sql' => $t->('c'));
make_case('golang', '1_a.up.sql' => $t->('a'), '1_a.down.sql' => "DROP TABLE a;\n",
	'2_b.up.sql' => $t->('b'), '10_c.up.sql' => $t->('c'),
	'9_d.up.sql' => $t->('d'));
make_case('flyway', 'V1__a.sql' => $t->('a'), 'V1.1__b.sql' => $t->('b'),
	'V2__c.sql' => $t->('c'), 'V10__d.sql' => $t->('d'),
	'R__view.sql' => "CREATE OR REPLACE VIEW v AS SELECT 1 AS x;\n");
make_case('goose',
	map { my ($n, $v) = @$_; ("${v}_$n.sql" => "-- +goose Up\n" . $t->($n)) }
	  ['a', 1], ['b', 2], ['c', 10], ['d', 11]);
make_case('sqlmigrate',
	map { my ($n, $v) = @$_; ("${v}_$n.sql" => "-- +migrate Up\n" . $t->($n)) }
	  ['a', 1], ['b', 3], ['c', 20]);
make_case('postgrator', '1.do.a.sql' => $t->('a'), '2.do.b.sql' => $t->('b'),
	'10.do.c.sql' => $t->('c'));
make_case('mixed', '001_a.sql' => $t->('a'), '002_b.sql' => $t->('b'),
	'003_c.sql' => $t->('c'), '004_d.sql' => $t->('d'));

# the files' times lie more than two seconds back (they were set an hour
# back, but the directories' own times are new)
sleep 3;

# mixed: the first two recorded as a baseline, the rest applied
$node->safe_psql('mixed', "SELECT morgenmigrate.migrate_baseline('$dirs{mixed}', target => '002_b.sql')");

foreach my $name (sort keys %dirs)
{
	# apply, read the files and keep their fingerprints, keep the proof
	my @ways;
	push @ways, apply_way($name) until @ways == 4 || $ways[-1] eq 'kept';
	is($ways[-1], 'kept', "$name: a no-op call keeps the proof (@ways)");
	my ($way, $answer) = same_status($name, 'the proof kept');
	is($way, 'proof', "$name: status answers from the proof");
	my @names = $answer =~ /^([^|\n]+)\|/mg;
	my %order = (
		plain => '001_a.sql 002_b.sql 003_c.sql',
		golang => '1_a.up.sql 2_b.up.sql 9_d.up.sql 10_c.up.sql',
		flyway => 'V1__a.sql V1.1__b.sql V2__c.sql V10__d.sql R__view.sql',
		goose => '1_a.sql 2_b.sql 10_c.sql 11_d.sql',
		sqlmigrate => '1_a.sql 3_b.sql 20_c.sql',
		postgrator => '1.do.a.sql 2.do.b.sql 10.do.c.sql',
		mixed => '001_a.sql 002_b.sql 003_c.sql 004_d.sql');
	is("@names", $order{$name}, "$name: in the runner's order");
	($way, $answer) = same_status($name, 'the proof kept', '', check_sql($name));
	is($way, 'proof', "$name: migrate_check answers from the proof");
	unlike($answer, qr/ERROR/, "$name: migrate_check passes");
}
my (undef, $mixed) = status('mixed');
like($mixed, qr/^002_b\.sql\|baseline\|/m, 'mixed: a baseline is shown as one');
like($mixed, qr/^003_c\.sql\|applied\|/m, 'mixed: an applied file as applied');

# --- after a change, status goes the long way ---
my ($way, $answer);

# a file added: pending
write_old_file("$dirs{golang}/11_e.up.sql", $t->('e'));
($way, $answer) = same_status('golang', 'a file added');
is($way, 'long', 'golang, a file added: status goes the long way');
like($answer, qr/^11_e\.up\.sql\|pending\|/m, 'golang: the new file is pending');
($way, $answer) = same_status('golang', 'a file added', '', check_sql('golang'));
is($way, 'long', 'golang, a file added: migrate_check goes the long way');
like($answer, qr/ERROR:  1 migration of .* is not applied as it stands/,
	'golang: migrate_check fails, naming the new file');

# a file removed: missing
unlink "$dirs{goose}/11_d.sql" or die;
($way, $answer) = same_status('goose', 'a file removed');
is($way, 'long', 'goose, a file removed: status goes the long way');
like($answer, qr/^11_d\.sql\|missing\|/m, 'goose: the removed file is missing');

# an applied file edited in place, its size and times kept
my $old = (stat "$dirs{plain}/002_b.sql")[9];
write_old_file("$dirs{plain}/002_b.sql", $t->('x'));
utime $old, $old, "$dirs{plain}/002_b.sql";
($way, $answer) = same_status('plain', 'an applied file edited');
is($way, 'long', 'plain, a file edited: status goes the long way');
like($answer, qr/^002_b\.sql\|changed\|/m, 'plain: the edited file is changed');
($way, $answer) = same_status('plain', 'an applied file edited', '', check_sql('plain'));
like($answer, qr/ERROR:  1 migration of .* is not applied as it stands/,
	'plain: migrate_check fails on the edited file');

# the history changed in the transaction: a row deleted, a row's kind
foreach my $change (
	[ "DELETE FROM morgenmigrate.schema_migrations WHERE filename = 'V2__c.sql';",
	  qr/^V2__c\.sql\|pending\|/m ],
	[ "UPDATE morgenmigrate.schema_migrations SET kind = 'baseline' WHERE filename = 'V1__a.sql';",
	  qr/^V1__a\.sql\|baseline\|/m ])
{
	($way, $answer) = same_status('flyway', "history changed ($change->[0])", $change->[0]);
	is($way, 'long', "flyway, $change->[0]: status goes the long way");
	like($answer, $change->[1], "flyway, $change->[0]: status shows the change");
	($way) = same_status('flyway', "history changed ($change->[0])", $change->[0],
		check_sql('flyway'));
	is($way, 'long', "flyway, $change->[0]: migrate_check goes the long way");
}

# the proof still stands for what did not change
($way, $answer) = status('sqlmigrate', 'SET TRANSACTION READ ONLY;');
is($way, 'proof', 'sqlmigrate: status answers from the proof in a read-only transaction');
is($answer, (status('sqlmigrate',
	"DELETE FROM morgenmigrate.file_fingerprints WHERE filename = '';"))[1],
	'sqlmigrate, read-only: status answers as the long way answers');

# drift recorded: migrate_check takes the migrations from the proof and
# goes on to the drift, which it refuses as the long way does
$node->safe_psql('sqlmigrate', 'SELECT morgenmigrate.drift_enable()');
$node->safe_psql('sqlmigrate', 'CREATE TABLE made_by_hand (id int)');
($way, $answer) = same_status('sqlmigrate', 'a change made outside the migrations', '',
	check_sql('sqlmigrate'));
is($way, 'proof', 'sqlmigrate, drift recorded: migrate_check answers from the proof');
like($answer, qr/ERROR:  1 schema change was made outside the migrations/,
	'sqlmigrate, drift recorded: migrate_check fails on the drift');

# a role that may not read the history: the same error either way
$node->safe_psql('postgrator', q{
	CREATE ROLE reader LOGIN;
	GRANT pg_read_server_files TO reader;
	GRANT USAGE ON SCHEMA morgenmigrate TO reader;
	GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA morgenmigrate TO reader;
	GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA morgenmigrate TO reader;});
my ($rc, $out, $err) = $node->psql('postgrator',
	"SET ROLE reader;\nSELECT count(*) FROM morgenmigrate.migrate_apply('$dirs{postgrator}');\n"
	  . "SELECT count(*) FROM morgenmigrate.migrate_apply('$dirs{postgrator}');\n");
is($rc, 0, 'postgrator: the role applies (nothing to do) and keeps its proof')
  or diag $err;
($way) = status('postgrator', 'SET LOCAL ROLE reader;');
is($way, 'proof', "postgrator: the role's status answers from its proof");
($way, $answer) = same_status('postgrator', 'SELECT on the history revoked',
	"REVOKE SELECT ON morgenmigrate.schema_migrations FROM reader;\nSET LOCAL ROLE reader;");
like($answer, qr/ERROR:  permission denied for table schema_migrations/,
	'postgrator: without SELECT on the history, status fails either way');

# a proof of another form (an earlier build's) is not read as one
($way) = status('mixed');
is($way, 'proof', 'mixed: status answers from the proof');
$node->safe_psql('mixed', q{
	UPDATE morgenmigrate.file_fingerprints
	   SET facts = overlay(facts placing '\x58'::bytea from 1 for 1)
	 WHERE filename = ''});
($way) = status('mixed');
is($way, 'long', 'mixed: a proof of another form is not read');

$node->stop;
done_testing();
