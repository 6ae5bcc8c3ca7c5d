# Once a set of files is applied and its fingerprints kept, a new session
# on the unchanged set trusts every file, and keeps nothing new: no
# session rewrites morgenmigrate.file_fingerprints.  This holds too for a
# file read twice in one call: in a directory whose layout its files'
# markers settle, a file whose markers make a migration of two runners is
# read once before the layout is known and once after, by the layout's
# rules.  Both readings are kept, and both are trusted later.
#
# Whether a session trusted a fingerprint shows by a fingerprint whose
# checksum is made wrong on purpose: trusted, it makes the file "changed".
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('fingerprints_stable');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION morgenmigrate');

my $base = PostgreSQL::Test::Utils::tempdir();
my $old = time() - 3600;
my %sets = (
	# sql-migrate's markers settle the layout; 002 carries goose's too,
	# which make a migration of goose as well: it is read before the
	# layout is settled (as goose's, the first runner that reads it), and
	# again as sql-migrate's
	sql_migrate => {
		'00001_a.sql' => "-- +migrate Up\nCREATE TABLE sa (id int);\n",
		'00002_b.sql' => "-- +goose Up\n-- +migrate Up\nCREATE TABLE sb (id int);\n",
		'00003_c.sql' => "-- +migrate Up\nCREATE TABLE sc (id int);\n-- +migrate Down\nDROP TABLE sc;\n",
	},
	plain => {
		'001_a.sql' => "CREATE TABLE pa (id int);\n",
		'002_b.sql' => "CREATE TABLE pb (id int);\n",
		'002_b.down.sql' => "DROP TABLE pb;\n",
	},
);
for my $set (sort keys %sets)
{
	mkdir "$base/$set" or die "mkdir: $!";
	for my $f (keys %{ $sets{$set} })
	{
		PostgreSQL::Test::Utils::append_to_file("$base/$set/$f", $sets{$set}{$f});
		utime $old, $old, "$base/$set/$f" or die "utime: $!";
	}
}
# change times two seconds before the reading, as a fingerprint needs
sleep 3;

# A new session's migrate_apply of a set: the files it applied.
sub apply
{
	my ($set) = @_;
	return $node->safe_psql('postgres',
		"SELECT count(*) FROM morgenmigrate.migrate_apply('$base/$set')");
}

# The fingerprints kept of a set, each with the transaction that wrote it.
sub rows
{
	my ($set) = @_;
	return $node->safe_psql('postgres',
		"SELECT string_agg(filename || ' ' || xmin || ' ' || md5(facts), ', ' ORDER BY filename)"
		  . " FROM morgenmigrate.file_fingerprints WHERE directory = '$base/$set'"
		  # the files', not the directory's proof (an empty name)
		  . " AND filename <> ''");
}

# A new session's migrate_status of a set, as "file:state ...".
sub status
{
	my ($set) = @_;
	my @files = sort grep { !/\.down\./ } keys %{ $sets{$set} };
	my $in = join(', ', map { "'$_'" } @files);
	return $node->safe_psql('postgres',
		"SELECT string_agg(filename || ':' || state, ' ' ORDER BY filename)"
		  . " FROM morgenmigrate.migrate_status('$base/$set') WHERE filename IN ($in)");
}

for my $set (sort keys %sets)
{
	my $n = scalar grep { !/\.down\./ } keys %{ $sets{$set} };
	my @files = sort grep { !/\.down\./ } keys %{ $sets{$set} };

	is(apply($set), $n, "$set: the files applied");
	is(apply($set), '0', "$set: a new session has nothing to do, and keeps the fingerprints");
	my $kept = rows($set);
	# each file read keeps one: the migrations' and their down files'
	is(scalar(() = $kept =~ /\.sql /g), scalar keys %{ $sets{$set} },
		"$set: one fingerprint per file")
	  or diag($kept);
	is(apply($set), '0', "$set: another new session has nothing to do");
	is(rows($set), $kept, "$set: and rewrites no fingerprint");
	is(apply($set), '0', "$set: nor does the next");
	is(rows($set), $kept, "$set: the fingerprints stay as they were");

	# the files' fingerprints edited by hand, and the directory's proof
	# deleted: status, which answers from a proof that stands without
	# reading the fingerprints, goes the long way, trusting them
	$node->safe_psql('postgres',
		"UPDATE morgenmigrate.file_fingerprints SET checksum = repeat('0', 64)"
		  . " WHERE directory = '$base/$set';"
		  . " DELETE FROM morgenmigrate.file_fingerprints"
		  . " WHERE directory = '$base/$set' AND filename = ''");
	my $changed = join(' ', map { "$_:changed" } @files);
	is(status($set), $changed, "$set: a new session trusts every file");
	is(status($set), $changed, "$set: and so does the next");
}

# a call keeps its fingerprints with one statement, and the table has an
# index for forgetting a migration's fingerprints by its name alone
mkdir "$base/batch" or die "mkdir: $!";
for my $i (1 .. 5)
{
	PostgreSQL::Test::Utils::append_to_file("$base/batch/00$i.sql", "CREATE TABLE batch$i (id int);\n");
	utime $old, $old, "$base/batch/00$i.sql" or die "utime: $!";
}
sleep 3;
is(apply('batch'), '5', 'batch: the files applied');
my $offset = -s $node->logfile;
is($node->safe_psql('postgres',
		"LOAD 'auto_explain';\n"
		  . "SET auto_explain.log_min_duration = 0;\n"
		  . "SET auto_explain.log_nested_statements = on;\n"
		  . "SELECT count(*) FROM morgenmigrate.migrate_apply('$base/batch');\n"
		  . "SELECT count(*) FROM morgenmigrate.file_fingerprints WHERE directory = '$base/batch'"),
	"0\n5", 'batch: a no-op call keeps the five fingerprints');
my $log = PostgreSQL::Test::Utils::slurp_file($node->logfile, $offset);
my @inserts = $log =~ /Insert on file_fingerprints/g;
is(scalar @inserts, 1, 'batch: with one statement');
like($node->safe_psql('postgres',
		"SELECT string_agg(indexdef, '; ') FROM pg_indexes"
		  . " WHERE schemaname = 'morgenmigrate' AND tablename = 'file_fingerprints'"),
	qr/USING btree \(filename\)/, 'an index serves forgetting by name');

# A session keeps each reading of a file, not only the last: a file read
# twice by each call (as goose's, then as sql-migrate's) is read by neither
# from the session's third call on (the second fills the cache).  Whether
# a call read it shows in the bytes its backend read (rchar of
# /proc/self/io): the file holds 2 MB of comment, far more than anything
# else a call reads.
SKIP:
{
	skip '/proc/self/io is not readable here', 1 unless -r '/proc/self/io';

	mkdir "$base/twice" or die "mkdir: $!";
	my $filler = ('-- ' . ('x' x 97) . "\n") x 20000;
	my %twice = (
		'00001_a.sql' => "-- +migrate Up\nCREATE TABLE ta (id int);\n",
		'00002_b.sql' => "-- +goose Up\n-- +migrate Up\n" . $filler . "CREATE TABLE tb (id int);\n",
	);
	for my $f (keys %twice)
	{
		PostgreSQL::Test::Utils::append_to_file("$base/twice/$f", $twice{$f});
		utime $old, $old, "$base/twice/$f" or die "utime: $!";
	}
	sleep 3;
	my $call = "SELECT count(*) FROM morgenmigrate.migrate_status('$base/twice');\n";
	my $io = "SELECT pg_read_file('/proc/self/io');\n";
	my $out = $node->safe_psql('postgres', $call x 2 . $io . $call . $io);
	my @rchar = $out =~ /^rchar: (\d+)$/mg;
	die "no rchar in: $out" unless @rchar == 2;
	cmp_ok($rchar[1] - $rchar[0], '<', 1024 * 1024,
		'twice: a file read by two layouts is read by neither from the third call on');
}

$node->stop;
done_testing();
