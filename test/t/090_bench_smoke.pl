# The benchmark's migration generator, at a tiny size (the
# benchmark itself is test/bench/run.sh and is never run here): the
# generator is deterministic, its SQL applies with migrate_apply exactly as
# it does with psql -1 -f (the benchmark's limit), every file is recorded
# with its checksum, a second apply has nothing to do, and migrate_status
# shows every file applied.  No timing is asserted.
use strict;
use warnings;

use Cwd qw(abs_path);
use Digest::SHA qw(sha256_hex);
use File::Basename qw(dirname);
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $gen = abs_path(dirname(__FILE__) . '/../bench/gen.pl');
my $base = PostgreSQL::Test::Utils::tempdir();
my $n = 20;

# Runs the generator; dies with its output when it fails.
sub generate
{
	my ($dir, @args) = @_;
	my ($stdout, $stderr);
	IPC::Run::run([ $^X, $gen, @args, '--out', $dir ], '>', \$stdout, '2>', \$stderr)
	  or die "gen.pl @args failed: $stderr";
	return $dir;
}

# The .sql files of a directory, sorted, with their contents.
sub read_set
{
	my ($dir) = @_;
	opendir(my $dh, $dir) or die "opendir $dir: $!";
	my @names = sort grep { /\.sql$/ } readdir($dh);
	closedir($dh);
	return map { $_ => PostgreSQL::Test::Utils::slurp_file("$dir/$_") } @names;
}

my $set = generate("$base/set", '--count', $n);
generate("$base/again", '--count', $n);
my %files = read_set($set);
my @names = sort keys %files;
is(scalar @names, $n, "the generator wrote $n files");
is_deeply({ read_set("$base/again") }, \%files, 'the generator is deterministic');
like($names[0], qr/^0001_[a-z0-9_]+\.sql$/, 'file names are zero-padded');

# every kind of migration the benchmark's mix promises shows up in 20 files
my $all = join('', map { $files{$_} } @names);
like($all, qr/CREATE TABLE \w+ \(\n    id bigserial PRIMARY KEY,\n    \w+ bigint REFERENCES \w+ \(id\)/,
	'a table with a primary key and a foreign key to an earlier table');
like($all, qr/ALTER TABLE \w+ ADD COLUMN/, 'an added column');
like($all, qr/CREATE INDEX/, 'an index');
like($all, qr/LANGUAGE plpgsql.*\$(fn)?\$/s, 'a plpgsql function in dollar quotes');
like($all, qr/INSERT INTO \w+ .*generate_series/s, 'a data migration');

my $node = PostgreSQL::Test::Cluster->new('bench');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE applied');
$node->safe_psql('postgres', 'CREATE DATABASE limit_run');
$node->safe_psql('applied', 'CREATE EXTENSION morgenmigrate');

# What a set leaves behind: every public relation, function and
# constraint, and every table's row count.
my $fingerprint_sql = q{
SELECT string_agg(x, E'\n' ORDER BY x) FROM (
  SELECT 'rel ' || relname || ' ' || relkind::text FROM pg_class
   WHERE relnamespace = 'public'::regnamespace
  UNION ALL
  SELECT 'fn ' || proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace
  UNION ALL
  SELECT 'con ' || conname FROM pg_constraint WHERE connamespace = 'public'::regnamespace
  UNION ALL
  SELECT 'rows ' || relname || ' ' ||
         (xpath('/row/c/text()', query_to_xml('SELECT count(*) AS c FROM ' || oid::regclass, false, true, '')))[1]::text
    FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'
) s(x)};

my $rows = $node->safe_psql('applied',
	"SELECT filename, status, statements > 0 FROM morgenmigrate.migrate_apply('$set') ORDER BY 1");
is($rows, join("\n", map { "$_|applied|t" } @names), 'migrate_apply applies every file in order');

is( $node->safe_psql('applied',
		'SELECT filename, checksum, kind FROM morgenmigrate.schema_migrations ORDER BY filename'),
	join("\n", map { "$_|" . sha256_hex($files{$_}) . '|applied' } @names),
	'every file is recorded in schema_migrations with its checksum');

# the limit of the benchmark: the same files concatenated, in one psql -1 -f
my $concat = "$base/all.sql";
PostgreSQL::Test::Utils::append_to_file($concat, $all);
my ($ret, $out, $err) = $node->psql('limit_run', undef,
	extra_params => [ '-1', '-v', 'ON_ERROR_STOP=1', '-f', $concat ]);
is($ret, 0, 'the concatenated set applies with psql -1 -f') or diag($err);

my $applied = $node->safe_psql('applied', $fingerprint_sql);
like($applied, qr/^rows \w+ [1-9]/m, 'the data migrations inserted rows');
is($applied, $node->safe_psql('limit_run', $fingerprint_sql),
	'migrate_apply leaves the same schema and data as psql -1 -f');

is($node->safe_psql('applied', "SELECT count(*) FROM morgenmigrate.migrate_apply('$set')"),
	'0', 'a second migrate_apply returns no rows');
is($node->safe_psql('applied', 'SELECT count(*) FROM morgenmigrate.schema_migrations'),
	$n, 'and records nothing more');
is($node->safe_psql('applied', $fingerprint_sql), $applied, 'and changes nothing');

is( $node->safe_psql('applied',
		"SELECT filename, state FROM morgenmigrate.migrate_status('$set') ORDER BY filename"),
	join("\n", map { "$_|applied" } @names),
	'migrate_status(dir) shows every file applied');

# the memory set's large files, shrunk: one table and its rows per file
my $big = generate("$base/big", '--big', '--count', 2, '--size', 20000);
my %bigfiles = read_set($big);
ok((grep { length($_) >= 20000 } values %bigfiles) == 2, 'the large files have the size asked for');
$node->safe_psql('postgres', 'CREATE DATABASE big');
$node->safe_psql('big', 'CREATE EXTENSION morgenmigrate');
$node->safe_psql('big', "SELECT count(*) FROM morgenmigrate.migrate_apply('$big')");
is( $node->safe_psql('big',
		'SELECT (SELECT count(*) FROM bulk_1) > 100, (SELECT count(*) FROM bulk_2) > 100, '
		  . "(SELECT count(*) FROM morgenmigrate.schema_migrations WHERE filename LIKE '%\\_seed\\_bulk\\_%')"),
	't|t|2', 'the large files apply and are recorded');

$node->stop;
done_testing();
