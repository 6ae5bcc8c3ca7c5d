# A directory's proof must give the answer the long way gives: a user
# relies on "nothing to do" from a proof meaning exactly what the same
# call would answer without it.  Each case below makes one change, then
# calls migrate_apply twice in new sessions, each in a transaction rolled
# back: once as it is (the proof stands) and once with the proof deleted
# (DELETE FROM morgenmigrate.file_fingerprints WHERE filename = ''), and
# compares what the two calls return, warn and raise.
#
# Both cases answered from a proof where the long way did not, before the
# proof held the history's columns and a direct read asked for USAGE on
# the schema:
#
# (1) The history's rows keep their bytes while the columns they are read
#     by change: columns renamed (filename and checksum swapped), or a
#     column dropped and added again with a default (rows written before
#     show the default, their bytes do not change).  The proof now holds
#     the tables' columns (numbers, names, types, collations), so it does
#     not stand; the long way reads other values.
# (2) A role that calls migrate_apply through a view (or a statement
#     prepared earlier) loses USAGE on the schema morgenmigrate.  The
#     proof was read directly, without the schema, and stood; the long way
#     fails with "permission denied for schema morgenmigrate".  Now no
#     table of the schema is read directly without USAGE on it: the call
#     asks the query, which fails the same way, proof or not.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../perl";
use MorgenmigrateTest qw(write_old_file proof_way);

my $node = PostgreSQL::Test::Cluster->new('dirproof_probe');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION morgenmigrate');

my $base = PostgreSQL::Test::Utils::tempdir();
my $dir = "$base/set";
mkdir $dir or die;


write_old_file("$dir/001_one.sql", "CREATE TABLE one (id int);\n");
write_old_file("$dir/002_two.sql", "CREATE TABLE two (id int);\n");

# Lets every time of the set lie more than two seconds in the past.
sub settle { sleep 3; }

# A new session's call, in a transaction rolled back after it, with $pre
# run first in the same transaction: (the way it went, what it answered:
# the files it applied and its WARNING, NOTICE and ERROR lines).
sub call
{
	my ($pre, $select) = @_;
	$select //= "SELECT string_agg(filename, ' ') FROM morgenmigrate.migrate_apply('$dir')";
	my ($rc, $out, $err) = $node->psql('postgres',
		"BEGIN;\n$pre\nSET LOCAL client_min_messages = debug1;\n$select;\nROLLBACK;\n",
		on_error_stop => 0);
	my $way = proof_way($err);
	my @said = grep { /^(?:psql:[^ ]* )?(WARNING|NOTICE|ERROR):/ } split /\n/, $err;
	s/^psql:[^ ]* // for @said;
	return ($way, "applied: $out\n" . join("\n", @said));
}

# The case $pre makes: without it the call answers from the proof (else
# the case shows nothing); with it, the call answers as the same call
# without the proof does.
sub same_answer
{
	my ($name, $pre, $select, $as) = @_;
	$as //= '';
	my ($way) = call($as, $select);
	is($way, 'proof', "$name: before the change, the call answers from the proof");
	my (undef, $with) = call("$pre\n$as", $select);
	my (undef, $without) = call(
		"$pre\nDELETE FROM morgenmigrate.file_fingerprints WHERE filename = '';\n$as",
		$select);
	is($with, $without, "$name: the call answers as the long way answers");
}

# A new session's call that stays (committed), as $role: the way it went.
sub keep
{
	my ($select, $role) = @_;
	$select //= "SELECT string_agg(filename, ' ') FROM morgenmigrate.migrate_apply('$dir')";
	my $pre = $role ? "SET ROLE $role;\n" : '';
	my ($rc, $out, $err) = $node->psql('postgres',
		"${pre}SET client_min_messages = debug1;\n$select;\n");
	die "call failed: $err" if $rc != 0;
	return proof_way($err) eq 'long' ? "long:$out" : proof_way($err);
}

settle();
is(keep(), 'long:001_one.sql 002_two.sql', 'the first call applies the set');
is(keep(), 'long:', 'the next reads the files and keeps their fingerprints');
is(keep(), 'kept', 'the next finds nothing to do and keeps the proof');
is(keep(), 'proof', 'and the next answers from it');

# (1) the history's columns, not its rows, changed
same_answer('history columns filename and checksum swapped by name',
	"ALTER TABLE morgenmigrate.schema_migrations RENAME COLUMN filename TO swap;\n"
	  . "ALTER TABLE morgenmigrate.schema_migrations RENAME COLUMN checksum TO filename;\n"
	  . "ALTER TABLE morgenmigrate.schema_migrations RENAME COLUMN swap TO checksum;");
same_answer('history column checksum dropped and added again with a default',
	"ALTER TABLE morgenmigrate.schema_migrations DROP COLUMN checksum;\n"
	  . "ALTER TABLE morgenmigrate.schema_migrations ADD COLUMN checksum text NOT NULL DEFAULT 'unknown';");

# (2) a role that calls through a view loses USAGE on the extension's
# schema; it keeps every privilege on the tables
$node->safe_psql('postgres', qq{
CREATE ROLE deployer LOGIN;
GRANT pg_read_server_files TO deployer;
GRANT USAGE ON SCHEMA morgenmigrate TO deployer;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA morgenmigrate TO deployer;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA morgenmigrate TO deployer;
CREATE VIEW public.deploy AS SELECT * FROM morgenmigrate.migrate_apply('$dir');
GRANT SELECT ON public.deploy TO deployer;
});
my $view = "SELECT string_agg(filename, ' ') FROM public.deploy";
is(keep($view, 'deployer'), 'kept', 'the role keeps its own proof through the view');
is(keep($view, 'deployer'), 'proof', 'and answers from it');
same_answer('USAGE on the schema revoked from a role calling through a view',
	'REVOKE USAGE ON SCHEMA morgenmigrate FROM deployer;', $view,
	'SET ROLE deployer;');

$node->stop;
done_testing();
