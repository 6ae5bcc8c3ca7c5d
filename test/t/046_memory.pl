# Memory: applying many large files must not grow the
# backend's memory with the number of files: each file is read, split and
# run in memory that is freed before the next.  60 files of about 1 MB each
# (a long comment and a 512 kB literal inserted into a table) are applied by
# one backend; its peak resident memory (VmHWM in /proc/PID/status; the
# test runs as the server's OS user) may grow by less than a quarter of the
# files' total, and not much more than for the first 5 files alone.
#
# A file of 100,000 INSERT statements (about 5 MB): its parse trees would
# take twenty times its text at once; the backend's peak grows by at most
# twice the file, with the shared buffers it touches (the server has few)
# and 8 MB for its caches and plans.  These are bounds on memory, not
# timings.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $nfiles = 60;

my $node = PostgreSQL::Test::Cluster->new('memory');
$node->init;
# few shared buffers: a backend's peak counts those it touches
$node->append_conf('postgresql.conf', 'shared_buffers = 4MB');
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION morgenmigrate');
$node->safe_psql('postgres', 'CREATE TABLE mem_blobs (n integer, payload text)');

my $dir = PostgreSQL::Test::Utils::tempdir();
my $total = 0;
for my $i (1 .. $nfiles)
{
	my $text = "-- file $i: " . ('c' x (480 * 1024)) . "\n"
	  . "INSERT INTO mem_blobs VALUES ($i, '" . (chr(ord('a') + $i % 26) x (512 * 1024)) . "');\n"
	  . "CREATE TABLE mem_t$i (id integer);\n";
	my $path = sprintf('%s/%03d_mem_%03d.sql', $dir, $i, $i);
	PostgreSQL::Test::Utils::append_to_file($path, $text);
	$total += length $text;
}

# VmHWM of a backend, in kB.
sub peak_kb
{
	my ($pid) = @_;
	my $status = slurp_file("/proc/$pid/status");
	$status =~ /^VmHWM:\s+(\d+) kB$/m or die "no VmHWM for $pid";
	return $1;
}

# Applies at most $steps files of $from in a new backend; returns how many
# and its peak growth in kB.
sub growth_kb
{
	my ($steps, $from) = @_;
	$from //= $dir;
	my $s = $node->background_psql('postgres');
	# load the module and warm the caches before the first reading
	$s->query_safe('SELECT count(*) FROM morgenmigrate.migrate_status()');
	my $pid = $s->query_safe('SELECT pg_backend_pid()');
	my $before = peak_kb($pid);
	my $n = $s->query_safe(
		"SELECT count(*) FROM morgenmigrate.migrate_apply('$from', steps => $steps)");
	my $after = peak_kb($pid);
	$s->quit;
	return ($n, $after - $before);
}

my ($n5, $growth5) = growth_kb(5);
is($n5, '5', 'the first run applies 5 files');
$node->safe_psql('postgres', 'DELETE FROM morgenmigrate.schema_migrations; DELETE FROM mem_blobs');
$node->safe_psql('postgres', join('', map { "DROP TABLE mem_t$_;" } 1 .. 5));

my ($n60, $growth60) = growth_kb($nfiles);
is($n60, $nfiles, "the second run applies all $nfiles files");
is($node->safe_psql('postgres', 'SELECT count(*), sum(length(payload)) FROM mem_blobs'),
	"$nfiles|" . ($nfiles * 512 * 1024), 'every payload arrived whole');

my $total_kb = int($total / 1024);
note "files: $total_kb kB in total; peak growth: $growth5 kB for 5 files, $growth60 kB for $nfiles";
cmp_ok($growth60, '<', $total_kb / 4,
	"peak memory grew by less than a quarter of the $total_kb kB of files");
cmp_ok($growth60, '<', $growth5 + 8 * 1024,
	'applying 60 files needs at most 8 MB more than applying 5');

# one file of 100,000 INSERTs, in a directory of its own
my $many = PostgreSQL::Test::Utils::tempdir();
open my $fh, '>', "$many/001_load.sql" or die $!;
print $fh "CREATE TABLE mem_rows (id integer, note text);\n";
print $fh "INSERT INTO mem_rows VALUES ($_, 'row number $_');\n" for 1 .. 100_000;
close $fh;
my $many_kb = int((-s "$many/001_load.sql") / 1024);
$node->safe_psql('postgres', 'DELETE FROM morgenmigrate.schema_migrations');
my ($n1, $growth_many) = growth_kb(1, $many);
is($node->safe_psql('postgres', 'SELECT count(*) FROM mem_rows'), '100000',
	'100,000 INSERTs in one file: every row');
my $buffers_kb = $node->safe_psql('postgres',
	q{SELECT pg_size_bytes(current_setting('shared_buffers')) / 1024});
note sprintf('a file of 100,000 INSERTs, %d kB: peak growth %d kB (%.2fx)',
	$many_kb, $growth_many, $growth_many / $many_kb);
cmp_ok($growth_many, '<', 2 * $many_kb + $buffers_kb + 8 * 1024,
	"100,000 INSERTs in one file: the peak grows by at most twice the file, $buffers_kb kB of buffers and 8 MB");

$node->stop;
done_testing();
