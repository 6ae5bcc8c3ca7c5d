# A directory's proof must give the answer the long way gives: a user
# relies on "nothing to do" from a proof meaning exactly what the same
# call would answer without it.  Each case below makes one change, then
# calls migrate_apply twice in new sessions, each in a transaction rolled
# back: once as it is (the proof stands) and once with the proof deleted
# (DELETE FROM morgenmigrate.file_fingerprints WHERE filename = ''), and
# compares what the two calls return, warn and raise.
#
# Both cases fail today: the proof stands on something the long way reads
# differently.
#
# (1) The history's rows keep their bytes while the columns they are read
#     by change: columns renamed (filename and checksum swapped), or a
#     column dropped and added again with a default (rows written before
#     show the default, their bytes do not change).  The proof hashes each
#     row's bytes, not which column each value is read as, so it stands;
#     the long way reads other values.
# (2) A role that calls migrate_apply through a view (or a statement
#     prepared earlier) loses USAGE on the schema morgenmigrate.  The
#     proof is read directly and stands; the long way keeps the proof
#     again with an INSERT that needs USAGE, and fails with "permission
#     denied for schema morgenmigrate".
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('dirproof_probe');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION morgenmigrate');

my $base = PostgreSQL::Test::Utils::tempdir();
my $dir = "$base/set";
mkdir $dir or die;
my $old = time() - 3600;

# Writes a file, its modification time an hour back.
sub write_file
{
	my ($path, $text) = @_;
	open my $fh, '>', $path or die "$path: $!";
	print $fh $text;
	close $fh;
	utime $old, $old, $path or die "utime $path: $!";
}

write_file("$dir/001_one.sql", "CREATE TABLE one (id int);\n");
write_file("$dir/002_two.sql", "CREATE TABLE two (id int);\n");

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
	my $way = $err =~ /are as when a call last found nothing to do/ ? 'proof'
	  : $err =~ /kept the proof/ ? 'kept' : 'long';
	my @said = grep { /^(?:psql:[^ ]* )?(WARNING|NOTICE|ERROR):/ } split /\n/, $err;
	s/^psql:[^ ]* // for @said;
	return ($way, "applied: $out\n" . join("\n", @said));
}

# The case $pre makes: the call with the proof must answer from it (else
# the case shows nothing), and as the call without it.
sub same_answer
{
	my ($name, $pre, $select, $as) = @_;
	$as //= '';
	my ($way, $with) = call("$pre\n$as", $select);
	is($way, 'proof', "$name: the call answers from the proof");
	my (undef, $without) = call(
		"$pre\nDELETE FROM morgenmigrate.file_fingerprints WHERE filename = '';\n$as",
		$select);
	is($with, $without, "$name: as the long way answers");
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
	return $err =~ /are as when a call last found nothing to do/ ? 'proof'
	  : $err =~ /kept the proof/ ? 'kept' : "long:$out";
}

settle();
is(keep(), 'long:001_one.sql 002_two.sql', 'the first call applies the set');
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
