# A session keeps the listings of the directories it reads, but within a
# bound: a pg_cron job or a pooled connection that checks thousands of
# tenant directories must not grow its backend without end.  Here one
# session reads 3,000 directories (each of 40 files, hard links to the same
# files, so that only the listings add up), and its memory is compared
# after 1,500 and after 3,000 of them.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $ndirs = 3000;
my $nfiles = 40;

my $node = PostgreSQL::Test::Cluster->new('listing_bound');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION morgenmigrate');

my $base = PostgreSQL::Test::Utils::tempdir();
mkdir "$base/files" or die;
for my $f (1 .. $nfiles)
{
	PostgreSQL::Test::Utils::append_to_file(sprintf("$base/files/%03d_tenant_step.sql", $f),
		"SELECT $f;\n");
}
for my $d (1 .. $ndirs)
{
	mkdir "$base/t$d" or die "mkdir: $!";
	for my $f (1 .. $nfiles)
	{
		my $name = sprintf("%03d_tenant_step.sql", $f);
		link("$base/files/$name", "$base/t$d/$name") or die "link: $!";
	}
}
# listings are kept once the directories' times lie two seconds back
sleep 3;

# what the session's cache of listings takes, in bytes, and its whole cache
my $memory = q{SELECT coalesce(sum(total_bytes) FILTER (WHERE name = 'morgenmigrate cached directory'), 0)
	|| ' ' || coalesce(sum(total_bytes) FILTER (WHERE name LIKE 'morgenmigrate%'), 0)
	FROM pg_backend_memory_contexts;};
# (twice each: a session keeps what it reads of a directory from its
# second call on it)
my $read = sub {
	my ($from, $to) = @_;
	return "SELECT count(*) FROM generate_series($from, $to) AS d,"
	  . " generate_series(1, 2) AS again,"
	  . " LATERAL morgenmigrate.migrate_status('$base/t' || d);\n";
};
my ($rc, $out, $err) = $node->psql('postgres',
	$read->(1, $ndirs / 2) . $memory . "\n"
	  . $read->($ndirs / 2 + 1, $ndirs) . $memory . "\n"
	  # read again: the most recently read listings are the ones kept
	  . $read->($ndirs - 99, $ndirs) . $memory . "\n");
is($rc, 0, 'one session read every directory') or diag($err);
my @lines = split /\n/, $out;
is($lines[0], 2 * $nfiles * $ndirs / 2, 'the first half: every file of every directory, twice');
is($lines[2], 2 * $nfiles * $ndirs / 2, 'the second half');
my ($listings_half, $cache_half) = split / /, $lines[1];
my ($listings_all, $cache_all) = split / /, $lines[3];
note("listings kept: $listings_half bytes after half, $listings_all after all;"
	  . " whole cache $cache_half, $cache_all");
cmp_ok($listings_all, '<=', 8 * 1024 * 1024,
	'the listings kept take at most 8 MB');
cmp_ok($listings_all, '>', 0, 'listings are kept');
cmp_ok($cache_all, '<=', $cache_half * 1.1 + 65536,
	'the cache does not grow from 1,500 to 3,000 directories');
my ($listings_again) = split / /, $lines[5];
cmp_ok($listings_again, '<=', 8 * 1024 * 1024, 'and stays bounded when read again');

done_testing();
