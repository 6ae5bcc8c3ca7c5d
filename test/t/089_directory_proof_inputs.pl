# A third probe of a directory's proof, from the side of the long way's
# inputs: what a no-op call's answer depends on that the proof does not
# hold.  As in 068 and 069, each case calls migrate_apply in new sessions,
# each in a transaction rolled back, once with the proof (it must stand
# before the change) and once with it deleted, and compares what the two
# return, warn, notice and raise.
#
# Discrepancies this probe found, mended since: a call keeps a proof only
# if it read no file (each served by a fingerprint or the session's cache),
# since reading a file can make the server's scanner say something that a
# call answering from a proof would not say, and migrate_run keeps the
# fingerprints of the files it read, as migrate_apply does.  Before:
#
# (1) A NOTICE of the server's scanner while a file is read (an identifier
#     longer than NAMEDATALEN-1 is truncated, in a Flyway script parsed
#     for its transaction mode) is not counted: emit_log_hook is called
#     only for messages that go to the server log (output_to_server), and
#     log_min_messages defaults to WARNING.  The call keeps a proof;
#     later calls are silent where the long way notices.
# (2) The same with a WARNING under log_min_messages = error: the
#     backslash warning of 069 reaches the client, not the hook.
# (3) escape_string_warning is not in the proof: a proof kept with it off
#     stands with it on, and the call is silent where the long way warns.
#
# Cases that agree: a proof kept in a transaction rolled back; the proof
# row's checksum edited by hand; the proof row copied under another
# directory; SELECT on the history revoked from the role that kept it; the
# table's owner changed; migrate_apply twice in one transaction with a
# file written (COPY TO) between.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../perl";
use MorgenmigrateTest qw(write_old_file proof_way);

my $node = PostgreSQL::Test::Cluster->new('dirproof_inputs');
$node->init;
$node->start;

my $base = PostgreSQL::Test::Utils::tempdir();
my $old = time() - 3600;

# A database and directory of its own, with $setup run in the database.
sub make_case
{
	my ($name, $files, $setup) = @_;
	my $dir = "$base/$name";
	mkdir $dir or die "$dir: $!";
	write_old_file("$dir/$_", $files->{$_}) foreach sort keys %$files;
	utime $old, $old, $dir or die;
	$node->safe_psql('postgres', "CREATE DATABASE $name");
	$node->safe_psql($name, 'CREATE EXTENSION morgenmigrate');
	$node->safe_psql($name, $setup) if $setup;
	return $dir;
}

sub apply_sql
{
	my ($dir) = @_;
	return "SELECT string_agg(filename, ' ') FROM morgenmigrate.migrate_apply('$dir')";
}

sub way_of
{
	my ($err, $out) = @_;
	return proof_way($err) eq 'long' ? "long:$out" : proof_way($err);
}

# A new session's call in $db, in a transaction rolled back: (the way it
# went, what it answered: files applied and WARNING/NOTICE/ERROR lines).
sub call
{
	my ($db, $pre, $select) = @_;
	my ($rc, $out, $err) = $node->psql($db,
		"BEGIN;\n$pre\nSET LOCAL client_min_messages = debug1;\n$select;\nROLLBACK;\n",
		on_error_stop => 0);
	my @said = grep { /^(?:psql:[^ ]* )?(WARNING|NOTICE|ERROR|DETAIL):/ } split /\n/, $err;
	s/^psql:[^ ]* // for @said;
	return (way_of($err, ''), "applied: $out\n" . join("\n", @said));
}

# A new session's call that stays (committed): the way it went.
sub keep
{
	my ($db, $select, $pre) = @_;
	$pre //= '';
	my ($rc, $out, $err) = $node->psql($db,
		"$pre\nSET client_min_messages = debug1;\n$select;\n");
	die "call failed: $err" if $rc != 0;
	return way_of($err, $out);
}

# Before the change the call answers from the proof; after it, as the same
# call without the proof.  Returns the answer with the proof.
sub same_answer
{
	my ($name, $db, $select, $pre, $as) = @_;
	$as //= '';
	my ($way) = call($db, $as, $select);
	is($way, 'proof', "$name: before the change, the call answers from the proof");
	my (undef, $with) = call($db, "$pre\n$as", $select);
	my (undef, $without) = call($db,
		"$pre\nDELETE FROM morgenmigrate.file_fingerprints WHERE filename = '';\n$as",
		$select);
	is($with, $without, "$name: the call answers as the long way answers");
	return $with;
}

my $t1 = "CREATE TABLE one (id int);\n";
my $t2 = "CREATE TABLE two (id int);\n";
my $long = 'x' x 70;
my $bs = "CREATE TABLE one (a text DEFAULT 'x\\\\y');\n"
  . "-- no index is built concurrently here\n";

my %dir;
$dir{notice} = make_case('notice',
	{ 'V1__one.sql' => "CREATE TABLE $long (id int);\n"
		  . "-- no index is built concurrently here\n" });
$dir{lmm} = make_case('lmm', { 'V1__one.sql' => $bs },
	"ALTER DATABASE lmm SET standard_conforming_strings = off;\n"
	  . "ALTER DATABASE lmm SET log_min_messages = error;");
$dir{esw} = make_case('esw', { 'V1__one.sql' => $bs },
	"ALTER DATABASE esw SET standard_conforming_strings = off;\n"
	  . "ALTER DATABASE esw SET escape_string_warning = off;");
$dir{plain} = make_case('plain', { '001_one.sql' => $t1, '002_two.sql' => $t2 });
$dir{other} = "$base/other";
mkdir $dir{other} or die;
write_old_file("$dir{other}/001_one.sql", $t1);
write_old_file("$dir{other}/002_two.sql", $t2);
write_old_file("$dir{other}/003_three.sql", "CREATE TABLE three (id int);\n");
utime $old, $old, $dir{other} or die;
sleep 3;

# --- once discrepancies: the long way said something the proof did not ---
# (each proof was kept by migrate_run, which kept no fingerprints, so the
# long way of migrate_apply read (and parsed) the file again)
foreach my $db (qw(notice lmm esw))
{
	my $run = "CALL morgenmigrate.migrate_run('$dir{$db}')";
	is(keep($db, $run), 'long:', "$db: migrate_run applies the set");
	is(keep($db, $run), 'long:', "$db: the next reads the file (which says something) and keeps no proof");
	is(keep($db, $run), 'kept', "$db: the next reads no file (its fingerprint is kept) and keeps the proof");
}

# (1) nothing changed at all: a NOTICE with default log_min_messages
my $with = same_answer('scanner NOTICE (identifier truncated) under default log_min_messages',
	'notice', apply_sql($dir{notice}), '');
# (2) nothing changed at all: a WARNING under log_min_messages = error
same_answer('backslash WARNING under log_min_messages = error',
	'lmm', apply_sql($dir{lmm}), '');
# (3) escape_string_warning turned on after the proof was kept
same_answer('escape_string_warning turned on',
	'esw', apply_sql($dir{esw}), 'SET LOCAL escape_string_warning = on;');

# --- agreements ---
my $p = $dir{plain};
is(keep('plain', apply_sql($p)), 'long:001_one.sql 002_two.sql', 'plain: applies the set');
is(keep('plain', apply_sql($p)), 'long:', 'plain: the next reads the files, keeping their fingerprints');
my ($rc, $out, $err) = $node->psql('plain',
	"BEGIN;\nSET LOCAL client_min_messages = debug1;\n" . apply_sql($p) . ";\nROLLBACK;\n");
like($err, qr/kept the proof/, 'plain: a call in a transaction keeps a proof');
is($node->safe_psql('plain',
	"SELECT count(*) FROM morgenmigrate.file_fingerprints WHERE filename = ''"),
	'0', 'plain: rolled back, it is gone');
is(keep('plain', apply_sql($p)), 'kept', 'plain: the next call keeps it again');

same_answer('proof row checksum edited by hand', 'plain', apply_sql($p),
	"UPDATE morgenmigrate.file_fingerprints SET checksum = repeat('0', 32) WHERE filename = '';");
# the proof of one directory, copied under another directory's name (a set
# with a pending file): the copy does not stand there
{
	my $copy = "INSERT INTO morgenmigrate.file_fingerprints SELECT '$dir{other}', filename, device, inode, size, mtime_ns, ctime_ns, checksum, facts FROM morgenmigrate.file_fingerprints WHERE directory = '$p' AND filename = '';";
	is((call('plain', '', apply_sql($p)))[0], 'proof', 'plain: the proof stands for its own directory');
	my ($way, $with) = call('plain', $copy, apply_sql($dir{other}));
	my (undef, $without) = call('plain', '', apply_sql($dir{other}));
	is($with, $without, 'proof row copied under another directory: the call answers as the long way answers');
	like($with, qr/003_three/, 'and applies the pending file');
}

$node->safe_psql('plain', q{
CREATE ROLE deployer LOGIN;
CREATE ROLE newowner;
GRANT pg_read_server_files TO deployer;
GRANT USAGE ON SCHEMA morgenmigrate TO deployer;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA morgenmigrate TO deployer;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA morgenmigrate TO deployer;
});
is(keep('plain', apply_sql($p), 'SET ROLE deployer;'), 'kept', 'plain: deployer keeps its own proof');
same_answer('SELECT on the history revoked from the role that kept the proof',
	'plain', apply_sql($p),
	'REVOKE SELECT ON morgenmigrate.schema_migrations FROM deployer;', 'SET ROLE deployer;');
same_answer('history table given to another owner', 'plain', apply_sql($p),
	'ALTER TABLE morgenmigrate.schema_migrations OWNER TO newowner;', 'SET ROLE deployer;');

# twice in one transaction, a file written by the server between
is(keep('plain', apply_sql($p)), 'kept', 'plain: superuser keeps its proof');
my $twice = apply_sql($p) . ";\nCOPY (SELECT 'CREATE TABLE three (id int);') TO '$p/003_three.sql';\n"
  . apply_sql($p);
my ($w1, $a1) = call('plain', '', $twice);
is($w1, 'proof', 'twice in one transaction: the first call answers from the proof');
unlink "$p/003_three.sql" or die;	# COPY TO is not rolled back
my (undef, $a2) = call('plain',
	"DELETE FROM morgenmigrate.file_fingerprints WHERE filename = '';", $twice);
unlink "$p/003_three.sql" or die;
is($a1, $a2, 'twice in one transaction, a file written between: as the long way');
like($a1, qr/003_three/, 'and the second call applies the new file');

$node->stop;
done_testing();
