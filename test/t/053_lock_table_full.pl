# A migrate_apply that outgrows PostgreSQL's shared lock table keeps
# PostgreSQL's error (53200, out of shared memory), and its hint says how
# far the call got and that CALL migrate_run, which commits after each
# file, does not hold every lock to the end.  migrate_run then applies the
# same set.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('lock_table');
$node->init;
# the smallest lock table PostgreSQL allows
$node->append_conf('postgresql.conf',
	"max_locks_per_transaction = 10\nmax_connections = 10\nmax_prepared_transactions = 0\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION morgenmigrate');

my $dir = PostgreSQL::Test::Utils::tempdir();
my $n = 1500;
for my $i (1 .. $n)
{
	PostgreSQL::Test::Utils::append_to_file(sprintf("%s/%04d_table.sql", $dir, $i),
		"CREATE TABLE t$i (id integer PRIMARY KEY);\n");
}

my ($rc, $out, $err) = $node->psql('postgres',
	"SELECT count(*) FROM morgenmigrate.migrate_apply('$dir')",
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
isnt($rc, 0, 'one transaction for every file runs out of the lock table');
like($err, qr/ERROR:  53200: out of shared memory/, "PostgreSQL's error and SQLSTATE are kept");
like($err, qr/HINT:  You might need to increase "?max_locks_per_transaction"?\.  This call had applied \d+ of its $n files in one transaction, which holds every lock it takes until it ends \(max_locks_per_transaction is 10\)\.  CALL morgenmigrate\.migrate_run\(\) commits after each file/,
	'the hint says how far the call got and names migrate_run');
is($node->safe_psql('postgres', 'SELECT count(*) FROM morgenmigrate.schema_migrations'),
	'0', 'nothing is recorded');
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_class WHERE relname ~ '^t[0-9]+\$'"),
	'0', 'and nothing is created');

$node->safe_psql('postgres', "CALL morgenmigrate.migrate_run('$dir')");
is($node->safe_psql('postgres', 'SELECT count(*) FROM morgenmigrate.schema_migrations'),
	$n, 'migrate_run applies the same set, a transaction per file');

$node->stop;
done_testing();
