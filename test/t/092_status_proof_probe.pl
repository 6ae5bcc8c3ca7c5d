# Probe: migrate_status(dir) answered from a directory's proof against
# migrate_status(dir) with the proof deleted (the long way).  Each case keeps
# a proof (no-op migrate_apply in new sessions until "kept the proof"), then
# in new sessions, inside BEGIN ... ROLLBACK, runs status once as it is and
# once after DELETE FROM morgenmigrate.file_fingerprints WHERE filename = '',
# and compares the full rows (all columns) and WARNING/NOTICE/ERROR lines.
#
# Tried (agreeing unless said otherwise):
# - layouts: plain NNN_name.sql with .down.sql files; golang-migrate with
#   unpadded numbers and down files; goose whose names differ only in case
#   and sort otherwise by name; Flyway with dotted versions, R__ repeatable
#   scripts and a .conf file; postgrator with undo files; dbmate;
#   node-pg-migrate; sql-migrate; morgenmigrate.layout set per database;
# - migration_errors: a failure recorded (atomic => false) then the file
#   fixed and applied; a failure row for a filename not in the directory;
#   a failure row inserted for an applied file in the transaction;
# - hand edits of schema_migrations in the transaction: applied_at,
#   duration, checksum, kind ('adopted', 'baseline');
# - migrate_forget / migrate_rollback / migrate_baseline / migrate_repair
#   before status, in the transaction;
# - a different role calling status than the one that kept the proof;
# - search_path pointing at a schema with its own schema_migrations;
# - FORCE ROW LEVEL SECURITY with a policy hiding a row;
# - column privileges only (SELECT revoked at table level) for a role;
# - a file whose mtime is in the future;
# - migrate_status after migrate_apply applied a file in the same
#   transaction (long way), and after a no-op apply kept a proof in that
#   transaction (from the proof), each compared within one transaction;
# - REPEATABLE READ, a history row deleted and committed by another
#   session after the snapshot (both ways show the row as applied);
# - the databases => fleet form (worker), proof deleted committed;
# - 3000 golang-migrate files with unpadded numbers;
# - the schemas => (tenant) form of status for the same directory;
# - a disagreement, mended (the last case): a tenant's migrate_apply
#   (schemas =>) that runs again a changed Flyway repeatable script
#   R__x.sql deletes the fingerprints of every file named R__x.sql in every
#   directory (forget_fingerprints: by the name alone), while the
#   database's own history and the other directory stayed as they were, so
#   that directory's proof stood: status and a no-op migrate_apply from the
#   proof were silent, and the long way read the file again, its scanner
#   giving a NOTICE (identifier truncated).  A directory's proof now goes
#   with any fingerprint of it that is forgotten.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../perl";
use MorgenmigrateTest qw(write_old_file proof_way proof_call proof_both);

my $node = PostgreSQL::Test::Cluster->new('status_proof_probe');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'morgenmigrate'
max_worker_processes = 16
});
$node->start;

my $base = PostgreSQL::Test::Utils::tempdir();
my %dirs;
my %dbof;

sub make_case
{
	my ($name, $files, $setup, $db) = @_;
	my $dir = "$base/$name";
	mkdir $dir or die "$dir: $!";
	write_old_file("$dir/$_", $files->{$_}) foreach sort keys %$files;
	$db //= $name;
	unless ($dbof{"db:$db"})
	{
		$node->safe_psql('postgres', "CREATE DATABASE $db");
		$node->safe_psql($db, 'CREATE EXTENSION morgenmigrate');
		$node->safe_psql($db, $setup) if $setup;
		$dbof{"db:$db"} = 1;
	}
	$dirs{$name} = $dir;
	$dbof{$name} = $db;
	return $dir;
}

sub status_sql
{
	my ($name, $extra) = @_;
	$extra //= '';
	return "SELECT * FROM morgenmigrate.migrate_status('$dirs{$name}'$extra)";
}

sub status
{
	my ($name, $pre, $extra) = @_;
	return proof_call($node, $dbof{$name}, $pre // '', status_sql($name, $extra));
}

sub same_status
{
	my ($name, $what, $pre, $extra) = @_;
	my ($way, $with, $without) =
	  proof_both($node, $dbof{$name}, $pre // '', status_sql($name, $extra));
	is($with, $without, "$name, $what: status answers as the long way answers");
	return ($way, $with);
}

# Both ways in one transaction ($pre first): status, then the proof
# deleted, status again.  (the first's way, its answer, the second's)
sub status_one_tx
{
	my ($name, $pre) = @_;
	my ($rc, $out, $err) = $node->psql($dbof{$name},
		"BEGIN;\n\\o /dev/null\n$pre\n\\o\nSET LOCAL client_min_messages = debug1;\n"
		  . "\\warn ==A\n" . status_sql($name) . ";\n\\echo ==MARK\n\\warn ==B\n"
		  . "DELETE FROM morgenmigrate.file_fingerprints WHERE filename = '';\n"
		  . "\\warn ==C\n" . status_sql($name) . ";\nROLLBACK;\n",
		on_error_stop => 0);
	my ($o1, $o2) = split /^==MARK\n?/m, $out, 2;
	$o2 //= '';
	my ($e1) = $err =~ /==A\n(.*)==B/s;
	my ($e2) = $err =~ /==C\n(.*)\z/s;
	$e1 //= ''; $e2 //= '';
	my $said = sub {
		my @s = grep { /^(?:psql:[^ ]* )?(WARNING|NOTICE|ERROR|DETAIL):/ } split /\n/, $_[0];
		s/^psql:[^ ]* // for @s;
		return @s;
	};
	chomp $o1; chomp $o2;
	return (proof_way($e1), join("\n", "rows:", $o1, $said->($e1)),
		proof_way($e2), join("\n", "rows:", $o2, $said->($e2)));
}

sub apply_way
{
	my ($name, $pre) = @_;
	$pre //= '';
	my ($rc, $out, $err) = $node->psql($dbof{$name},
		"$pre\nSET client_min_messages = debug1;\n"
		  . "SELECT count(*) FROM morgenmigrate.migrate_apply('$dirs{$name}');\n");
	die "apply failed: $err" if $rc != 0;
	return proof_way($err);
}

sub keep_proof
{
	my ($name, $pre) = @_;
	my @ways;
	push @ways, apply_way($name, $pre) until @ways == 5 || $ways[-1] eq 'kept';
	is($ways[-1], 'kept', "$name: a no-op call keeps the proof (@ways)");
}

my $t = sub { "CREATE TABLE $_[0] (id int);\n" };
my $long = 'x' x 70;

# --- the sets ---
make_case('plain', { '001_a.sql' => $t->('a'), '001_a.down.sql' => "DROP TABLE a;\n",
	'002_b.sql' => $t->('b'), '002_b.down.sql' => "DROP TABLE b;\n",
	'003_c.sql' => $t->('c') });
make_case('golang', { '1_a.up.sql' => $t->('a'), '1_a.down.sql' => "DROP TABLE a;\n",
	'2_b.up.sql' => $t->('b'), '10_c.up.sql' => $t->('c'), '10_c.down.sql' => "DROP TABLE c;\n",
	'9_d.up.sql' => $t->('d') });
make_case('goosecase', {
	map { my ($n, $v, $tb) = @$_; ("${v}_$n.sql" => "-- +goose Up\n" . $t->($tb)) }
	  ['b', 1, 'b1'], ['B', 2, 'b2'], ['a', 10, 'a1'], ['A', 11, 'a2'] });
make_case('flyway', { 'V1__a.sql' => $t->('a'), 'V1.1__b.sql' => $t->('b'),
	'V2__c.sql' => $t->('c'), 'V2__c.sql.conf' => "executeInTransaction=true\n",
	'V10__d.sql' => $t->('d'),
	'R__view.sql' => "CREATE OR REPLACE VIEW v AS SELECT 1 AS x;\n",
	'R__aview.sql' => "CREATE OR REPLACE VIEW av AS SELECT 1 AS x;\n" });
make_case('postgrator', { '1.do.a.sql' => $t->('a'), '1.undo.a.sql' => "DROP TABLE a;\n",
	'2.do.b.sql' => $t->('b'), '10.do.c.sql' => $t->('c'), '10.undo.c.sql' => "DROP TABLE c;\n" });
make_case('dbmate', {
	'20240101000000_one.sql' => "-- migrate:up\n" . $t->('one') . "\n-- migrate:down\nDROP TABLE one;\n",
	'20240103000000_two.sql' => "-- migrate:up\n" . $t->('two') . "\n-- migrate:down\nDROP TABLE two;\n" });
make_case('nodepg', {
	'1700000000000_one.sql' => "-- Up Migration\n" . $t->('one') . "-- Down Migration\nDROP TABLE one;\n",
	'1700000000002_two.sql' => "-- Up Migration\n" . $t->('two') . "-- Down Migration\nDROP TABLE two;\n" });
make_case('sqlmigrate', {
	map { my ($n, $v) = @$_; ("${v}_$n.sql" => "-- +migrate Up\n" . $t->($n)) }
	  ['a', 1], ['b', 3], ['c', 20] });
make_case('forced', { '1_one.up.sql' => $t->('one'), '2_two.up.sql' => $t->('two'),
	'10_ten.up.sql' => $t->('ten') },
	"ALTER DATABASE forced SET morgenmigrate.layout = 'golang-migrate'");
make_case('fail', { '001_a.sql' => $t->('a'), '002_b.sql' => "SELECT 1/0;\n" });
make_case('hist', { '001_a.sql' => $t->('a'), '002_b.sql' => $t->('b'),
	'002_b.down.sql' => "DROP TABLE b;\n", '003_c.sql' => $t->('c'),
	'003_c.down.sql' => "DROP TABLE c;\n" });
make_case('future', { '001_a.sql' => $t->('a'), '002_b.sql' => $t->('b') });
make_case('intx', { '001_a.sql' => $t->('a') });
my %many;
$many{"${_}_m$_.up.sql"} = "SELECT $_;\n" for 1 .. 3000;
make_case('many', \%many);
# the disagreement: two directories of one database, the second for a tenant
make_case('shared', { 'V1__one.sql' => $t->('one'),
	'R__view.sql' => "CREATE OR REPLACE VIEW w AS SELECT 1 AS $long;\n"
	  . "-- no index is built concurrently here\n" });
make_case('tenantset', { 'V1__t.sql' => $t->('t'),
	'R__view.sql' => "CREATE OR REPLACE VIEW v AS SELECT 1 AS a;\n" }, undef, 'shared');
$node->safe_psql('shared', 'CREATE SCHEMA t1');

# a future modification time on a file
my $future = time() + 86400;
utime $future, $future, "$dirs{future}/002_b.sql" or die;

sleep 3;

# fail: 002 fails and its failure is recorded; fixed, it applies
$node->psql('fail', "SELECT * FROM morgenmigrate.migrate_apply('$dirs{fail}', atomic => false)");
is($node->safe_psql('fail', 'SELECT count(*) FROM morgenmigrate.migration_errors'), '1',
	'fail: the failure is recorded');
write_old_file("$dirs{fail}/002_b.sql", "SELECT 1/1;\n");
$node->safe_psql('fail', q{INSERT INTO morgenmigrate.migration_errors
	(filename, failed_at, sqlstate, message) VALUES ('zzz_gone.sql', now(), '22012', 'gone')});
sleep 3;

foreach my $name (qw(plain golang goosecase flyway postgrator dbmate nodepg sqlmigrate
	forced fail hist many shared))
{
	keep_proof($name);
	my ($way, $answer) = same_status($name, 'the proof kept');
	is($way, 'proof', "$name: status answers from the proof");
}
my (undef, $ans) = status('goosecase');
my @names = $ans =~ /^([^|\n]+)\|/mg;
is("@names", '1_b.sql 2_B.sql 10_a.sql 11_A.sql', 'goosecase: in the runner\'s order');
(undef, $ans) = status('many');
@names = $ans =~ /^([^|\n]+)\|/mg;
is(scalar(@names), 3000, 'many: 3000 rows');
is("@names[0..2] $names[-1]", '1_m1.up.sql 2_m2.up.sql 3_m3.up.sql 3000_m3000.up.sql',
	'many: in numeric order');
(undef, $ans) = status('fail');
unlike($ans, qr/zzz_gone/, 'fail: a failure of a file not in the set is not shown');

# --- the history changed in the transaction ---
foreach my $pre (
	"UPDATE morgenmigrate.schema_migrations SET applied_at = applied_at - interval '1 day' WHERE filename = '002_b.sql';",
	"UPDATE morgenmigrate.schema_migrations SET duration = interval '1 mon 2 s' WHERE filename = '002_b.sql';",
	"UPDATE morgenmigrate.schema_migrations SET checksum = 'x' WHERE filename = '002_b.sql';",
	"UPDATE morgenmigrate.schema_migrations SET kind = 'adopted' WHERE filename = '002_b.sql';",
	"UPDATE morgenmigrate.schema_migrations SET kind = 'baseline' WHERE filename = '001_a.sql';",
	"INSERT INTO morgenmigrate.migration_errors (filename, failed_at, sqlstate, message) VALUES ('001_a.sql', now(), '22012', 'x');",
	"SELECT morgenmigrate.migrate_forget('003_c.sql');",
	"SELECT count(*) FROM morgenmigrate.migrate_rollback('$dirs{hist}');",
	"SELECT morgenmigrate.migrate_baseline('$dirs{hist}');",
	"SELECT count(*) FROM morgenmigrate.migrate_repair('$dirs{hist}');",
	"CREATE SCHEMA evil; CREATE TABLE evil.schema_migrations (filename text); SET LOCAL search_path = evil, public;",
	"ALTER TABLE morgenmigrate.schema_migrations ENABLE ROW LEVEL SECURITY; ALTER TABLE morgenmigrate.schema_migrations FORCE ROW LEVEL SECURITY; CREATE POLICY p ON morgenmigrate.schema_migrations USING (filename <> '003_c.sql');")
{
	same_status('hist', "after: $pre", $pre);
}
# repair and search_path leave the history as it was
my ($way) = status('hist', "SELECT count(*) FROM morgenmigrate.migrate_repair('$dirs{hist}');");
is($way, 'proof', 'hist: after a repair with nothing to repair, status answers from the proof');

# another role, and a role with column privileges only
$node->safe_psql('hist', q{
	CREATE ROLE other LOGIN;
	GRANT pg_read_server_files TO other;
	GRANT USAGE ON SCHEMA morgenmigrate TO other;
	GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA morgenmigrate TO other;
	GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA morgenmigrate TO other;});
($way) = same_status('hist', 'another role', 'SET LOCAL ROLE other;');
is($way, 'long', 'hist: another role goes the long way');
keep_proof('hist', 'SET ROLE other;');
($way) = same_status('hist', 'the other role, its own proof', 'SET LOCAL ROLE other;');
is($way, 'proof', 'hist: the other role answers from its own proof');
same_status('hist', 'column privileges only',
	'REVOKE SELECT ON morgenmigrate.schema_migrations FROM other; '
	  . 'GRANT SELECT (filename, applied_at, checksum, duration, kind) ON morgenmigrate.schema_migrations TO other; '
	  . 'SET LOCAL ROLE other;');

# a future time: no proof is kept, both ways agree
apply_way('future') for 1 .. 3;
($way) = same_status('future', 'a file with a future time');
is($way, 'long', 'future: status goes the long way');

# in one transaction: apply a file, then status; a no-op apply, then status
apply_way('intx') for 1 .. 3;
write_old_file("$dirs{intx}/002_b.sql", $t->('b'));
sleep 3;
my ($w1, $a1, $w2, $a2) = status_one_tx('intx',
	"SELECT count(*) FROM morgenmigrate.migrate_apply('$dirs{intx}');");
is($a1, $a2, 'intx, after an apply in the transaction: status answers as the long way answers (one transaction)');
note "intx after an apply: $w1 / $w2";
($w1, $a1, $w2, $a2) = status_one_tx('intx',
	"SELECT count(*) FROM morgenmigrate.migrate_apply('$dirs{intx}');\n"
	  . "SELECT count(*) FROM morgenmigrate.migrate_apply('$dirs{intx}');\n"
	  . "SELECT count(*) FROM morgenmigrate.migrate_apply('$dirs{intx}');\n");
is($a1, $a2, 'intx, after applies that may keep a proof in the transaction: status answers as the long way answers (one transaction)');
note "intx after three applies: $w1 / $w2";
# and once the new file is committed, with a proof kept
keep_proof('intx');
($w1, $a1, $w2, $a2) = status_one_tx('intx', '');
is($a1, $a2, 'intx, committed: the two ways agree in one transaction');
is("$w1 $w2", 'proof long', 'intx, committed: the first from the proof, the second the long way');

# REPEATABLE READ: another session deletes a history row after the
# snapshot was taken; both ways read under the snapshot
{
	my $bg = $node->background_psql('sqlmigrate', on_error_stop => 0);
	$bg->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM morgenmigrate.schema_migrations');
	$node->safe_psql('sqlmigrate', "DELETE FROM morgenmigrate.schema_migrations WHERE filename = '3_b.sql'");
	$bg->query('SET LOCAL client_min_messages = debug1');
	my $r1 = $bg->query(status_sql('sqlmigrate'));
	my $way1 = proof_way($bg->{stderr});
	$bg->query("SAVEPOINT s; DELETE FROM morgenmigrate.file_fingerprints WHERE filename = ''");
	my $r2 = $bg->query(status_sql('sqlmigrate'));
	my $way2 = proof_way($bg->{stderr});
	$bg->query('ROLLBACK');
	$bg->quit;
	is($r1, $r2, 'sqlmigrate, REPEATABLE READ with a row deleted by another session: both ways agree');
	like($r1, qr/^3_b\.sql\|applied\|/m, 'sqlmigrate, REPEATABLE READ: the row is seen under the snapshot');
	note "RR ways (stderr accumulates): $way1 / $way2";
	my ($way, $ans) = same_status('sqlmigrate', 'after the delete committed');
	like($ans, qr/^3_b\.sql\|pending\|/m, 'sqlmigrate: after the delete, the file is pending');
}

# the databases => fleet form (each database in a worker): with the proof
# and with it deleted (committed: the worker does not see the caller's
# transaction)
{
	my $fleet = "SELECT * FROM morgenmigrate.migrate_status('$dirs{golang}', databases => ARRAY['golang'])";
	my ($way) = status('golang');
	is($way, 'proof', 'golang: the proof stands before the fleet call');
	my $with = $node->safe_psql('plain', $fleet);
	$node->safe_psql('golang', "DELETE FROM morgenmigrate.file_fingerprints WHERE filename = ''");
	my $without = $node->safe_psql('plain', $fleet);
	is($with, $without, 'golang, databases => : status answers as the long way answers');
	keep_proof('golang');
}

# the tenant form of status over a directory that has a proof
same_status('plain', 'schemas => a tenant', "CREATE SCHEMA t1;", ", schemas => ARRAY['t1']");

# --- the disagreement, mended ---
# the tenant applies its set (whose repeatable script shares a name with one
# of the database's directory), then a changed version of it
my $tenant_apply = "SELECT count(*) FROM morgenmigrate.migrate_apply('$dirs{tenantset}', schemas => ARRAY['t1'])";
$node->safe_psql('shared', $tenant_apply);
($way) = status('shared');
is($way, 'proof', 'shared: a tenant apply leaves the database\'s directory\'s proof standing');
write_old_file("$dirs{tenantset}/R__view.sql", "CREATE OR REPLACE VIEW v AS SELECT 2 AS a;\n");
sleep 3;
$node->safe_psql('shared', $tenant_apply);
is($node->safe_psql('shared', qq{SELECT count(*) FROM morgenmigrate.file_fingerprints
	WHERE directory = '$dirs{shared}' AND filename = 'R__view.sql'}), '0',
	'shared: the tenant\'s repeatable script ran again and deleted the fingerprint of the other directory\'s file of that name');
is($node->safe_psql('shared', qq{SELECT count(*) FROM morgenmigrate.file_fingerprints
	WHERE directory = '$dirs{shared}' AND filename = ''}), '0',
	'shared: and the proof of that directory with it');
my $with;
($way, $with) = same_status('shared', 'after a tenant re-ran its repeatable script of the same name');
is($way, 'long', 'shared: status goes the long way');
like($with, qr/NOTICE:  identifier "x+" will be truncated/,
	'shared: status reads the file again and its scanner notices');
my (undef, $without) = status('shared',
	"DELETE FROM morgenmigrate.file_fingerprints WHERE filename = '';");
like($without, qr/NOTICE:  identifier "x+" will be truncated/,
	'shared: the long way reads the file again and its scanner notices');
# migrate_apply has the same asymmetry (not status's own: its proof too)
my $apply = "SELECT count(*) FROM morgenmigrate.migrate_apply('$dirs{shared}')";
my ($ra, $oa, $ea) = $node->psql('shared', "BEGIN;\n$apply;\nROLLBACK;", on_error_stop => 0);
my ($rb, $ob, $eb) = $node->psql('shared',
	"BEGIN;\nDELETE FROM morgenmigrate.file_fingerprints WHERE filename = '';\n$apply;\nROLLBACK;",
	on_error_stop => 0);
s/^psql:[^ ]* //mg for $ea, $eb;
is($ea, $eb, 'shared: a no-op migrate_apply answers as the long way answers');

$node->stop;
done_testing();
