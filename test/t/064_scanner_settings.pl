# Where the server's scanner ends a string depends on
# standard_conforming_strings (and backslash_quote): with it off, a
# backslash before a quote escapes the quote.  So where a statement ends
# in a file does too, and what a session keeps of a file (filecache.c),
# or an earlier session proved (morgenmigrate.file_fingerprints), counts
# only under the settings it was read with: a call under other settings
# reads the file again and splits it as its own settings say.
#
# The goose file below ends a chunk at each line that ends in a
# semicolon.  With standard_conforming_strings on, 'a\' is a string and
# each line is one statement; with it off, the string runs on into the
# next line, so goose would send half a statement: the file is refused.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('scanner_settings');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION morgenmigrate');

my $base = PostgreSQL::Test::Utils::tempdir();
my $dir = "$base/goose";
mkdir $dir or die "mkdir: $!";
my $old = time() - 3600;
my %files = (
	'00001_table.sql' => "-- +goose Up\nCREATE TABLE q (t text);\n",
	'00002_rows.sql' => "-- +goose Up\nINSERT INTO q VALUES ('a\\');\n"
	  . "SELECT 1 /* ' */;\n"
	  . "-- +goose Down\nDELETE FROM q;\n");
for my $f (sort keys %files)
{
	PostgreSQL::Test::Utils::append_to_file("$dir/$f", $files{$f});
	utime $old, $old, "$dir/$f" or die "utime: $!";
}
# change times two seconds before any reading, so that files are kept
sleep 3;

my $refusal = qr/goose ends a statement at the semicolon on this line, the server does not/;
my $on = "SET standard_conforming_strings = on;\n";
my $off = "SET standard_conforming_strings = off;\n";
my $status = "SELECT string_agg(filename || ':' || state, ' ' ORDER BY filename)"
  . " FROM morgenmigrate.migrate_status('$dir');\n";
my $applied = '00001_table.sql:applied 00002_rows.sql:applied';

# A new session's migrate_apply under on, then the fingerprints kept: as
# "applied kept".
sub apply_and_count
{
	return $node->safe_psql('postgres',
		$on . "SELECT count(*) FROM morgenmigrate.migrate_apply('$dir');\n"
		  . "SELECT count(*) FROM morgenmigrate.file_fingerprints"
		  # the files', not the directory's proof (an empty file name)
		  . " WHERE filename <> ''");
}

is(apply_and_count(), "2\n0",
	'both files are applied under on, and no fingerprint is kept yet (they were pending)');

# one session: read under on (three calls: the session keeps the files
# from its second call on), then off, then on again
my ($out, $err);
$node->psql('postgres',
	"\\set ON_ERROR_STOP 0\n" . $on . $status . $status . $status . $off
	  . $status . $on . $status,
	stdout => \$out, stderr => \$err);
is($out, join("\n", ($applied) x 4),
	'under on, each call reads both files as applied, before and after off')
  or diag($err);
my @refused = $err =~ /$refusal/g;
is(scalar @refused, 1,
	'under off, in the same session, the file is split again and refused')
  or diag($err);

# across sessions: the fingerprints kept by a no-op call under on; a new
# session under off must not take them as proved
is(apply_and_count(), "0\n2",
	'a later call under on has nothing to do, and keeps both files\' fingerprints');
my $rc = $node->psql('postgres', $off . $status, stdout => \$out, stderr => \$err);
isnt($rc, 0, 'a new session under off does not trust them');
like($err, $refusal, 'it splits the file as off says, and refuses it');
is($node->safe_psql('postgres', $on . $status), $applied,
	'a new session under on reads both as applied');

$node->stop;
done_testing();
