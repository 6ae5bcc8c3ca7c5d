# migrate_baseline of a large set: 1.0 counted its rows from a list that
# SPI_finish had already freed, and a set of 10,000 files (the list large
# enough to be given back to the operating system) crashed the backend.
# Every writer of a large set must answer and leave the server up.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('large_set');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION morgenmigrate');

my $dir = PostgreSQL::Test::Utils::tempdir();
my $n = 10000;
for my $i (1 .. $n)
{
	PostgreSQL::Test::Utils::append_to_file(sprintf("%s/%05d_step.sql", $dir, $i),
		"SELECT $i;\n");
}

my ($rc, $out, $err) = $node->psql('postgres',
	"SELECT morgenmigrate.migrate_baseline('$dir')");
is($rc, 0, 'migrate_baseline of 10,000 files answers');
is($out, $n, 'and says how many it recorded');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM morgenmigrate.schema_migrations WHERE kind = 'baseline'"),
	$n, 'every file is recorded as baseline');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM morgenmigrate.migrate_status('$dir') WHERE state = 'baseline'"),
	$n, 'and migrate_status(dir) shows them all');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM morgenmigrate.migrate_apply('$dir')"),
	'0', 'a no-op migrate_apply over them applies nothing');

$node->stop;
done_testing();
