# morgenmigrate on a Citus cluster (a coordinator and two workers on this
# machine): migrate_apply on the coordinator runs a set that creates a
# reference table, a distributed table with a foreign key to it, and rows
# in both, all in its one transaction; Citus puts the shards on the
# workers, and the history is the coordinator's.  Skipped where Citus is
# not installed (scripts/build-citus.sh SRC builds it).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../perl";
use MorgenmigrateTest qw(write_set);
use CitusCluster qw(citus_installed CITUS_MISSING);

plan skip_all => CITUS_MISSING unless citus_installed();

my $citus = CitusCluster->start('citus');
my $coord = $citus->coordinator;
my @workers = $citus->workers;

is($coord->safe_psql('postgres',
		q(SELECT count(*) FROM pg_dist_node WHERE isactive AND noderole = 'primary')),
	'3', 'the coordinator and both workers are in the metadata');
# Citus propagates CREATE EXTENSION morgenmigrate, run on the coordinator
# after the workers were added, to them (as it does to a worker added
# later: it is in pg_dist_object)
for my $i (1 .. 2)
{
	is($citus->worker($i)->safe_psql('postgres',
			q(SELECT extversion FROM pg_extension WHERE extname = 'morgenmigrate')),
		$coord->safe_psql('postgres',
			q(SELECT extversion FROM pg_extension WHERE extname = 'morgenmigrate')),
		"worker $i has morgenmigrate, from the coordinator's CREATE EXTENSION");
}

my $base = PostgreSQL::Test::Utils::tempdir();
my $dir = write_set(
	"$base/set",
	'001_countries.sql' => <<'SQL',
CREATE TABLE countries (
    code text PRIMARY KEY,
    name text NOT NULL
);
SELECT create_reference_table('countries');
SQL
	'002_customers.sql' => <<'SQL',
CREATE TABLE customers (
    id      bigint PRIMARY KEY,
    country text NOT NULL REFERENCES countries (code),
    name    text NOT NULL
);
SELECT create_distributed_table('customers', 'id');
SQL
	'003_seed.sql' => <<'SQL',
INSERT INTO countries VALUES ('DE', 'Germany'), ('FR', 'France');
INSERT INTO customers SELECT i, CASE WHEN i % 2 = 0 THEN 'DE' ELSE 'FR' END, 'c' || i
FROM generate_series(1, 100) i;
SQL
);

is($coord->safe_psql('postgres',
		"SELECT string_agg(filename || ':' || status, ',' ORDER BY filename) FROM morgenmigrate.migrate_apply('$dir')"),
	'001_countries.sql:applied,002_customers.sql:applied,003_seed.sql:applied',
	'migrate_apply on the coordinator applies the set');

is($coord->safe_psql('postgres',
		q(SELECT string_agg(filename || ':' || kind, ',' ORDER BY filename) FROM morgenmigrate.schema_migrations)),
	'001_countries.sql:applied,002_customers.sql:applied,003_seed.sql:applied',
	'the history is on the coordinator');
is(join(',', map { $_->safe_psql('postgres', 'SELECT count(*) FROM morgenmigrate.schema_migrations') } @workers),
	'0,0', 'and only there: the history tables of the workers are their own, and empty');
is($coord->safe_psql('postgres',
		q(SELECT count(*) FROM pg_dist_partition WHERE logicalrelid::text LIKE 'morgenmigrate.%')),
	'0', 'the history tables are not in the Citus metadata');
is($coord->safe_psql('postgres',
		"SELECT string_agg(DISTINCT state, ',') FROM morgenmigrate.migrate_status('$dir')"),
	'applied', 'migrate_status on the coordinator: everything applied');
my ($rc, $out, $err) = $coord->psql('postgres', "SELECT morgenmigrate.migrate_check('$dir')");
is($rc, 0, 'migrate_check on the coordinator passes') or diag $err;

is($coord->safe_psql('postgres',
		q(SELECT string_agg(logicalrelid::text || ':' || partmethod::text, ',' ORDER BY logicalrelid::text)
		  FROM pg_dist_partition WHERE logicalrelid IN ('countries'::regclass, 'customers'::regclass))),
	'countries:n,customers:h',
	'countries is a reference table, customers is hash-distributed');

# where Citus put the shards, by the coordinator's metadata
my %port = map { $_->port => $_ } @workers;
is($coord->safe_psql('postgres',
		sprintf(q(SELECT string_agg(nodeport || ':' || n, ',' ORDER BY nodeport) FROM (
		  SELECT nodeport, count(*) AS n FROM pg_dist_shard_placement JOIN pg_dist_shard USING (shardid)
		  WHERE logicalrelid = 'customers'::regclass GROUP BY nodeport) s))),
	join(',', map { "$_:16" } sort { $a <=> $b } keys %port),
	'the 32 shards of customers are on the workers, 16 on each');

# and on the workers themselves (shards are hidden from pg_class unless
# citus.override_table_visibility is off)
for my $i (1 .. 2)
{
	my $w = $citus->worker($i);
	my $shards = $w->safe_psql('postgres', q(
		SET citus.override_table_visibility = off;
		SELECT count(*) FILTER (WHERE relname ~ '^customers_[0-9]+$') || ',' ||
		       count(*) FILTER (WHERE relname ~ '^countries_[0-9]+$')
		FROM pg_class WHERE relkind = 'r'));
	is($shards, '16,1', "worker $i holds 16 shards of customers and the one of countries");
	is($w->safe_psql('postgres', q(
		SET citus.override_table_visibility = off;
		SELECT count(*) FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid
		JOIN pg_class f ON f.oid = c.confrelid
		WHERE c.contype = 'f' AND r.relname ~ '^customers_[0-9]+$' AND f.relname ~ '^countries_[0-9]+$')),
		'16', "worker $i: each shard of customers has the foreign key to the shard of countries");
}

is($coord->safe_psql('postgres',
		q(SELECT bool_and(success) || ',' || sum(result::int) FROM run_command_on_shards('customers', 'SELECT count(*) FROM %s'))),
	'true,100', 'the rows of customers are in its shards');
is($coord->safe_psql('postgres',
		q(SELECT count(*) FROM customers JOIN countries ON countries.code = customers.country WHERE countries.name = 'Germany')),
	'50', 'a join of the distributed and the reference table through the coordinator');

($rc, $out, $err) = $coord->psql('postgres', q(INSERT INTO customers VALUES (101, 'XX', 'nowhere')));
isnt($rc, 0, 'the foreign key holds on the shards');
like($err, qr/violates foreign key constraint/, '... with PostgreSQL\'s error');

is($coord->safe_psql('postgres',
		"SELECT count(*) FROM morgenmigrate.migrate_apply('$dir')"),
	'0', 'a second migrate_apply on the coordinator has nothing to do');

$citus->stop;
done_testing();
