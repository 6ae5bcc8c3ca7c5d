# Every rule of migrate_plan against what PostgreSQL really does, on
# tables of 200,000 rows.  For each statement the plan's rows (relation,
# lock, effect) must be the expected ones, and running the statement in a
# transaction that is then rolled back must show the same: a rewrite
# changes the relation's relfilenode, an index build adds or rebuilds an
# index, a scan reads the table (its scan counters move), a catalog change
# does none of these, and the strongest lock the statement holds on each
# relation is the plan's lock_mode.  relation_bytes is
# pg_total_relation_size() (of every partition, for a partitioned table).
# The statements that cannot run in a transaction block (VACUUM FULL,
# CREATE INDEX CONCURRENTLY) run for real on tables of their own.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('plan_rules');
$node->init;
$node->append_conf('postgresql.conf', "timezone = 'UTC'\nautovacuum = off\n");
$node->start;

my $rows = 200000;
my $tsdir = PostgreSQL::Test::Utils::tempdir();
$node->safe_psql('postgres', qq{
CREATE EXTENSION morgenmigrate;
CREATE TABLESPACE elsewhere LOCATION '$tsdir';
CREATE DOMAIN positive AS int CHECK (VALUE > 0);
CREATE DOMAIN plain_int AS int;
CREATE TYPE mood AS ENUM ('sad', 'happy');
CREATE SCHEMA old_name;
CREATE TABLE customers (id bigint PRIMARY KEY, name text);
INSERT INTO customers SELECT g, 'c' || g FROM generate_series(1, $rows) g;
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, status varchar(20),
  total numeric(10,2), placed timestamp, flag int, code int, note text);
INSERT INTO orders SELECT g, g, 'new', g, '2024-01-01', g % 7, g, 'n'
  FROM generate_series(1, $rows) g;
CREATE INDEX orders_status ON orders (status);
CREATE UNIQUE INDEX orders_code ON orders (code);
ALTER TABLE orders ADD CONSTRAINT orders_flag_checked CHECK (flag >= 0) NOT VALID;
ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id)
  REFERENCES customers NOT VALID;
CREATE TABLE lines (id bigint PRIMARY KEY, order_id bigint REFERENCES orders);
INSERT INTO lines SELECT g, g FROM generate_series(1, $rows) g;
CREATE TABLE checked (id int, code varchar(10) CHECK (length(code) < 9),
  v int CONSTRAINT checked_v_not_null CHECK (v IS NOT NULL));
INSERT INTO checked SELECT g, 'c', g FROM generate_series(1, $rows) g;
CREATE TABLE keyless (id int, k int);
INSERT INTO keyless SELECT g, g FROM generate_series(1, $rows) g;
CREATE UNIQUE INDEX keyless_id ON keyless (id);
CREATE TABLE scores (id int, s plain_int);
INSERT INTO scores SELECT g, g FROM generate_series(1, $rows) g;
CREATE TABLE events (id int, k int) PARTITION BY RANGE (k);
CREATE TABLE events_low PARTITION OF events FOR VALUES FROM (0) TO (1000);
CREATE TABLE events_default PARTITION OF events DEFAULT;
INSERT INTO events SELECT g, g % 1000 FROM generate_series(1, $rows) g;
INSERT INTO events SELECT g, 5000 + g % 1000 FROM generate_series(1, 1000) g;
CREATE TABLE staging (id int, k int);
INSERT INTO staging SELECT g, 2000 + g % 1000 FROM generate_series(1, $rows) g;
CREATE MATERIALIZED VIEW customer_names AS SELECT id, name FROM customers;
CREATE UNIQUE INDEX customer_names_id ON customer_names (id);
CREATE TABLE rewritten (id int, v int);
INSERT INTO rewritten SELECT g, g FROM generate_series(1, $rows) g;
ALTER TABLE customers ALTER COLUMN name SET NOT NULL;
ANALYZE;

CREATE SCHEMA probe;
CREATE FUNCTION probe.leaves(r oid, own boolean) RETURNS oid[] LANGUAGE sql
  AS \$\$ SELECT CASE WHEN (SELECT relkind FROM pg_class WHERE oid = r) = 'p' AND NOT own
    THEN (SELECT array_agg(relid::oid ORDER BY relid) FROM pg_partition_tree(r) WHERE isleaf)
    WHEN EXISTS (SELECT FROM pg_class WHERE oid = r) THEN ARRAY[r] END \$\$;
CREATE FUNCTION probe.state(r oid, own boolean, OUT files text, OUT indexes text,
    OUT scans bigint, OUT written bigint, OUT bytes bigint) LANGUAGE sql
  AS \$\$
  SELECT (SELECT string_agg(l::text || ':' || pg_relation_filenode(l), ',' ORDER BY l) FROM unnest(probe.leaves(r, own)) l),
         (SELECT string_agg(i.indexrelid::text || ':' || pg_relation_filenode(i.indexrelid), ',' ORDER BY i.indexrelid)
            FROM pg_index i WHERE i.indrelid = ANY (probe.leaves(r, own))),
         (SELECT sum(pg_stat_get_xact_numscans(l) + pg_stat_get_xact_tuples_returned(l)) FROM unnest(probe.leaves(r, own)) l)
           + coalesce((SELECT sum(pg_stat_get_xact_numscans(i.indexrelid)) FROM pg_index i
                        WHERE i.indrelid = ANY (probe.leaves(r, own))), 0),
         (SELECT sum(pg_stat_get_xact_tuples_inserted(l) + pg_stat_get_xact_tuples_updated(l)
                     + pg_stat_get_xact_tuples_deleted(l)) FROM unnest(probe.leaves(r, own)) l),
         (SELECT sum(pg_relation_size(l)) FROM unnest(probe.leaves(r, own)) l)
  \$\$;
});

my %strength = (
	AccessShareLock => 1,
	RowShareLock => 2,
	RowExclusiveLock => 3,
	ShareUpdateExclusiveLock => 4,
	ShareLock => 5,
	ShareRowExclusiveLock => 6,
	ExclusiveLock => 7,
	AccessExclusiveLock => 8);

my $setno = 0;

# Writes a one-file migration set holding the statement; returns its path.
sub migration_set
{
	my ($sql) = @_;
	my $dir = PostgreSQL::Test::Utils::tempdir() . '/set' . $setno++;
	mkdir $dir or die "mkdir $dir: $!";
	PostgreSQL::Test::Utils::append_to_file("$dir/001_change.sql", "$sql;\n");
	return $dir;
}

# migrate_plan's rows of a statement: relation => [effect, lock, bytes,
# has advice], relation '-' for a row without one.
sub plan_of
{
	my ($sql, $settings) = @_;
	my $dir = migration_set($sql);
	my $out = $node->safe_psql('postgres',
		($settings // '')
		  . "SELECT coalesce(relation::text, '-'), effect, coalesce(lock_mode, '-'),"
		  . " coalesce(relation_bytes, -1), advice IS NOT NULL"
		  . " FROM morgenmigrate.migrate_plan('$dir')");
	my %plan;
	for my $line (split /\n/, $out)
	{
		my ($rel, $effect, $lock, $bytes, $advice) = split /\|/, $line;
		$plan{$rel} = [ $effect, $lock, $bytes, $advice eq 't' ];
	}
	return \%plan;
}

# What the statement really does to each relation, run in a transaction
# that is rolled back: relation => [effect, strongest lock held].  The
# relations are compared by their oids, read before the statement (which
# may rename or drop them), with probe.state(): relfilenodes, indexes,
# scans and rows written of the relation or of its partitions.
sub observed
{
	my ($sql, $relations, $settings) = @_;
	my $list = join(', ', map { "('$_->[0]', " . ($_->[1] ? 'true' : 'false') . ')' } @$relations);
	my $out = $node->safe_psql('postgres', qq{
		BEGIN;
		${\ ($settings // '')}
		CREATE TEMP TABLE before ON COMMIT DROP AS
		  SELECT n AS name, n::regclass::oid AS r, own, (probe.state(n::regclass, own)).*
		  FROM (VALUES $list) v(n, own);
		$sql;
		SELECT b.name, NOT EXISTS (SELECT FROM pg_class WHERE oid = b.r),
		  coalesce(b.files, ''), coalesce(a.files, ''),
		  a.indexes IS DISTINCT FROM b.indexes, a.scans > b.scans,
		  a.written > b.written, coalesce(a.bytes, 0), coalesce(b.bytes, 0),
		  (SELECT string_agg(mode, ',') FROM pg_locks l
		    WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.relation = b.r)
		FROM before b, LATERAL probe.state(b.r, b.own) a;
		ROLLBACK;
	});
	my %seen;
	for my $line (split /\n/, $out)
	{
		my ($rel, $gone, $files_before, $files_after, $reindexed, $scanned,
			$written, $bytes_after, $bytes_before, $modes)
		  = split /\|/, $line, -1;
		my %before = map { split /:/ } split /,/, $files_before;
		my %after = map { split /:/ } split /,/, $files_after;

		# a partition (or the relation) that stays gets a new file
		my $new_file = grep { exists $after{$_} && $after{$_} ne $before{$_} } keys %before;
		my $effect =
			$gone eq 't' ? 'catalog'
		  : $new_file ? ($bytes_after == 0 && $bytes_before > 0 ? 'data' : 'rewrite')
		  : $reindexed eq 't' && $scanned eq 't' ? 'index'
		  : $written eq 't' ? 'data'
		  : $scanned eq 't' ? 'scan'
		  : 'catalog';
		my ($strongest) = sort { $strength{$b} <=> $strength{$a} } split /,/, $modes;
		$seen{$rel} = [ $effect, $strongest // '-' ];
	}
	return \%seen;
}

# One rule: the statement, and per relation the expected effect and lock
# (the plan's and the server's), and 'own' when only the relation itself
# is observed, not its partitions; rows without a relation are not checked
# here.  Options: advice => 1 when the plan must give advice on the first
# relation, no_run => 1 when the statement fails on these tables, settings
# => SQL run before (in the same session).
sub rule
{
	my ($name, $sql, $expect, %opt) = @_;
	my $plan = plan_of($sql, $opt{settings});
	my @rels = map { [ $_->[0], $_->[3] ] } @$expect;
	my $seen = $opt{no_run} ? undef : observed($sql, \@rels, $opt{settings});

	for my $e (@$expect)
	{
		my ($rel, $effect, $lock) = @$e;
		my $p = $plan->{$rel};
		ok($p, "$name: the plan has a row for $rel")
		  or diag(explain $plan), next;
		is("$p->[0] $p->[1]", "$effect $lock", "$name: the plan says $effect under $lock on $rel");
		next if !$seen;
		is(join(' ', @{ $seen->{$rel} }), "$effect $lock",
			"$name: PostgreSQL does $effect under $lock on $rel");
	}
	if (defined $opt{advice})
	{
		my $p = $plan->{ $expect->[0][0] };
		is($p && $p->[3] ? 1 : 0, $opt{advice},
			"$name: the plan " . ($opt{advice} ? 'gives' : 'gives no') . ' advice');
	}
	return $plan;
}

# ADD COLUMN
rule('a volatile default', 'ALTER TABLE orders ADD COLUMN created timestamptz DEFAULT clock_timestamp()',
	[ [ 'orders', 'rewrite', 'AccessExclusiveLock' ] ], advice => 1);
rule('a constant default', 'ALTER TABLE orders ADD COLUMN kind int DEFAULT 3',
	[ [ 'orders', 'catalog', 'AccessExclusiveLock' ] ], advice => 0);
rule('a stable default', 'ALTER TABLE orders ADD COLUMN seen timestamptz DEFAULT now()',
	[ [ 'orders', 'catalog', 'AccessExclusiveLock' ] ], advice => 0);
rule('a uuid default', 'ALTER TABLE orders ADD COLUMN u uuid DEFAULT gen_random_uuid()',
	[ [ 'orders', 'rewrite', 'AccessExclusiveLock' ] ], advice => 1);
rule('a stored generated column', 'ALTER TABLE orders ADD COLUMN double_total numeric GENERATED ALWAYS AS (total * 2) STORED',
	[ [ 'orders', 'rewrite', 'AccessExclusiveLock' ] ], advice => 1);
rule('an identity column', 'ALTER TABLE orders ADD COLUMN n bigint GENERATED ALWAYS AS IDENTITY',
	[ [ 'orders', 'rewrite', 'AccessExclusiveLock' ] ], advice => 1);
rule('a serial column', 'ALTER TABLE orders ADD COLUMN n bigserial',
	[ [ 'orders', 'rewrite', 'AccessExclusiveLock' ] ], advice => 1);
rule('a domain with a constraint', 'ALTER TABLE orders ADD COLUMN p positive',
	[ [ 'orders', 'rewrite', 'AccessExclusiveLock' ] ], advice => 1);
rule('a domain without constraints', 'ALTER TABLE orders ADD COLUMN p plain_int DEFAULT 1',
	[ [ 'orders', 'catalog', 'AccessExclusiveLock' ] ], advice => 0);
rule('a json column', 'ALTER TABLE orders ADD COLUMN props json',
	[ [ 'orders', 'catalog', 'AccessExclusiveLock' ] ], advice => 1);
rule('a jsonb column', 'ALTER TABLE orders ADD COLUMN props jsonb',
	[ [ 'orders', 'catalog', 'AccessExclusiveLock' ] ], advice => 0);
rule('NOT NULL with a constant default', 'ALTER TABLE orders ADD COLUMN state int NOT NULL DEFAULT 0',
	[ [ 'orders', 'catalog', 'AccessExclusiveLock' ] ], advice => 0);
rule('a CHECK on the new column', 'ALTER TABLE orders ADD COLUMN q int CHECK (q > 0)',
	[ [ 'orders', 'scan', 'AccessExclusiveLock' ] ], advice => 1);
rule('UNIQUE on the new column', 'ALTER TABLE orders ADD COLUMN q int UNIQUE',
	[ [ 'orders', 'index', 'AccessExclusiveLock' ] ], advice => 1);
rule('REFERENCES without a default',
	'ALTER TABLE orders ADD COLUMN buyer bigint REFERENCES customers',
	[ [ 'orders', 'catalog', 'AccessExclusiveLock' ],
	  [ 'customers', 'catalog', 'ShareRowExclusiveLock' ] ],
	advice => 0);
rule('REFERENCES with a default',
	'ALTER TABLE orders ADD COLUMN buyer bigint DEFAULT 1 REFERENCES customers',
	[ [ 'orders', 'scan', 'AccessExclusiveLock' ],
	  [ 'customers', 'scan', 'ShareRowExclusiveLock' ] ],
	advice => 1);

# NOT NULL without a default fails on a table with rows, after reading
# to the first one
my $required = rule('NOT NULL without a default', 'ALTER TABLE orders ADD COLUMN needed int NOT NULL',
	[ [ 'orders', 'scan', 'AccessExclusiveLock' ] ], advice => 1, no_run => 1);
my ($rc, $out, $err) = $node->psql('postgres',
	'ALTER TABLE orders ADD COLUMN needed int NOT NULL');
like($err, qr/contains null values/, 'NOT NULL without a default: PostgreSQL refuses it on a table with rows');

# ALTER COLUMN TYPE
rule('int to bigint', 'ALTER TABLE orders ALTER COLUMN flag TYPE bigint',
	[ [ 'orders', 'rewrite', 'AccessExclusiveLock' ] ], advice => 1);
rule('varchar to a longer varchar', 'ALTER TABLE orders ALTER COLUMN status TYPE varchar(40)',
	[ [ 'orders', 'catalog', 'AccessExclusiveLock' ] ], advice => 0);
rule('varchar to text', 'ALTER TABLE orders ALTER COLUMN status TYPE text',
	[ [ 'orders', 'catalog', 'AccessExclusiveLock' ] ], advice => 0);
rule('varchar to a shorter varchar', 'ALTER TABLE orders ALTER COLUMN status TYPE varchar(10)',
	[ [ 'orders', 'rewrite', 'AccessExclusiveLock' ] ], advice => 1);
rule('numeric to a larger precision', 'ALTER TABLE orders ALTER COLUMN total TYPE numeric(12,2)',
	[ [ 'orders', 'catalog', 'AccessExclusiveLock' ] ], advice => 0);
rule('numeric to another scale', 'ALTER TABLE orders ALTER COLUMN total TYPE numeric(12,3)',
	[ [ 'orders', 'rewrite', 'AccessExclusiveLock' ] ], advice => 1);
rule('timestamp to timestamptz in UTC', 'ALTER TABLE orders ALTER COLUMN placed TYPE timestamptz',
	[ [ 'orders', 'catalog', 'AccessExclusiveLock' ] ], advice => 0);
rule('timestamp to timestamptz elsewhere', 'ALTER TABLE orders ALTER COLUMN placed TYPE timestamptz',
	[ [ 'orders', 'rewrite', 'AccessExclusiveLock' ] ],
	advice => 1, settings => "SET timezone = 'Europe/Berlin';");
rule('USING a cast of the column', 'ALTER TABLE orders ALTER COLUMN status TYPE text USING status::text',
	[ [ 'orders', 'catalog', 'AccessExclusiveLock' ] ], advice => 0);
rule('USING an expression', 'ALTER TABLE orders ALTER COLUMN flag TYPE int USING flag + 1',
	[ [ 'orders', 'rewrite', 'AccessExclusiveLock' ] ], advice => 1);
rule('to a domain with a constraint', 'ALTER TABLE orders ALTER COLUMN code TYPE positive',
	[ [ 'orders', 'rewrite', 'AccessExclusiveLock' ] ], advice => 1);
rule('a column with a CHECK', 'ALTER TABLE checked ALTER COLUMN code TYPE varchar(20)',
	[ [ 'checked', 'scan', 'AccessExclusiveLock' ] ], advice => 1);

# SET NOT NULL
rule('SET NOT NULL', 'ALTER TABLE orders ALTER COLUMN note SET NOT NULL',
	[ [ 'orders', 'scan', 'AccessExclusiveLock' ] ], advice => 1);
rule('SET NOT NULL with a valid CHECK (v IS NOT NULL)', 'ALTER TABLE checked ALTER COLUMN v SET NOT NULL',
	[ [ 'checked', 'catalog', 'AccessExclusiveLock' ] ], advice => 0);
rule('SET NOT NULL with a CHECK that lets NULL pass', 'ALTER TABLE checked ALTER COLUMN code SET NOT NULL',
	[ [ 'checked', 'scan', 'AccessExclusiveLock' ] ], advice => 1);
rule('DROP NOT NULL', 'ALTER TABLE customers ALTER COLUMN name DROP NOT NULL',
	[ [ 'customers', 'catalog', 'AccessExclusiveLock' ] ], advice => 1);

# constraints
rule('CHECK', 'ALTER TABLE orders ADD CONSTRAINT total_positive CHECK (total >= 0)',
	[ [ 'orders', 'scan', 'AccessExclusiveLock' ] ], advice => 1);
rule('CHECK NOT VALID', 'ALTER TABLE orders ADD CONSTRAINT total_positive CHECK (total >= 0) NOT VALID',
	[ [ 'orders', 'catalog', 'AccessExclusiveLock' ] ], advice => 0);
rule('FOREIGN KEY', 'ALTER TABLE lines ADD CONSTRAINT lines_again FOREIGN KEY (order_id) REFERENCES orders',
	[ [ 'lines', 'scan', 'ShareRowExclusiveLock' ],
	  [ 'orders', 'scan', 'ShareRowExclusiveLock' ] ], advice => 1);
# a foreign key of a table the set created (empty) checks no row: the
# referenced table is locked, not read
rule('FOREIGN KEY of a table the set creates',
	'CREATE TABLE fresh_lines (id bigint, order_id bigint); '
	  . 'ALTER TABLE fresh_lines ADD CONSTRAINT fresh_fk FOREIGN KEY (order_id) REFERENCES orders',
	[ [ 'orders', 'catalog', 'ShareRowExclusiveLock' ] ], advice => 0);
rule('a REFERENCES column with a default, of a table the set creates',
	'CREATE TABLE fresh_lines (id bigint); '
	  . 'ALTER TABLE fresh_lines ADD COLUMN order_id bigint DEFAULT 1 REFERENCES orders',
	[ [ 'orders', 'catalog', 'ShareRowExclusiveLock' ] ], advice => 0);
rule('FOREIGN KEY NOT VALID', 'ALTER TABLE lines ADD CONSTRAINT lines_again FOREIGN KEY (order_id) REFERENCES orders NOT VALID',
	[ [ 'lines', 'catalog', 'ShareRowExclusiveLock' ],
	  [ 'orders', 'catalog', 'ShareRowExclusiveLock' ] ], advice => 0);
rule('VALIDATE a CHECK', 'ALTER TABLE orders VALIDATE CONSTRAINT orders_flag_checked',
	[ [ 'orders', 'scan', 'ShareUpdateExclusiveLock' ] ], advice => 0);
rule('VALIDATE a FOREIGN KEY', 'ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_fk',
	[ [ 'orders', 'scan', 'ShareUpdateExclusiveLock' ],
	  [ 'customers', 'scan', 'RowShareLock' ] ], advice => 0);
rule('DROP a FOREIGN KEY', 'ALTER TABLE orders DROP CONSTRAINT orders_customer_fk',
	[ [ 'orders', 'catalog', 'AccessExclusiveLock' ],
	  [ 'customers', 'catalog', 'AccessExclusiveLock' ] ]);
rule('PRIMARY KEY', 'ALTER TABLE keyless ADD PRIMARY KEY (k)',
	[ [ 'keyless', 'index', 'AccessExclusiveLock' ] ], advice => 1);
rule('UNIQUE', 'ALTER TABLE keyless ADD CONSTRAINT keyless_k UNIQUE (k)',
	[ [ 'keyless', 'index', 'AccessExclusiveLock' ] ], advice => 1);
rule('UNIQUE USING INDEX', 'ALTER TABLE keyless ADD CONSTRAINT keyless_unique UNIQUE USING INDEX keyless_id',
	[ [ 'keyless', 'catalog', 'AccessExclusiveLock' ] ], advice => 0);
rule('PRIMARY KEY USING INDEX of a nullable column',
	'ALTER TABLE keyless ADD CONSTRAINT keyless_pk PRIMARY KEY USING INDEX keyless_id',
	[ [ 'keyless', 'scan', 'AccessExclusiveLock' ] ], advice => 1);
rule('EXCLUDE', 'ALTER TABLE keyless ADD CONSTRAINT keyless_ex EXCLUDE (k WITH =)',
	[ [ 'keyless', 'index', 'AccessExclusiveLock' ] ], advice => 1);

# indexes
rule('CREATE INDEX', 'CREATE INDEX orders_total ON orders (total)',
	[ [ 'orders', 'index', 'ShareLock' ] ], advice => 1);
rule('CREATE UNIQUE INDEX', 'CREATE UNIQUE INDEX orders_id_code ON orders (id, code)',
	[ [ 'orders', 'index', 'ShareLock' ] ], advice => 1);
rule('CREATE INDEX on a partitioned table', 'CREATE INDEX events_id ON events (id)',
	[ [ 'events', 'index', 'ShareLock' ] ], advice => 1);
rule('DROP INDEX', 'DROP INDEX orders_status',
	[ [ 'orders', 'catalog', 'AccessExclusiveLock' ] ], advice => 1);
rule('REINDEX TABLE', 'REINDEX TABLE orders',
	[ [ 'orders', 'index', 'ShareLock' ] ], advice => 1);
rule('REINDEX INDEX', 'REINDEX INDEX orders_status',
	[ [ 'orders', 'index', 'ShareLock' ] ], advice => 1);
rule('RENAME an index', 'ALTER INDEX orders_status RENAME TO orders_by_status',
	[ [ 'orders_status', 'catalog', 'ShareUpdateExclusiveLock' ] ]);

# the table as a whole
rule('SET UNLOGGED', 'ALTER TABLE rewritten SET UNLOGGED',
	[ [ 'rewritten', 'rewrite', 'AccessExclusiveLock' ] ], advice => 1);
rule('SET LOGGED of a logged table', 'ALTER TABLE rewritten SET LOGGED',
	[ [ 'rewritten', 'catalog', 'AccessExclusiveLock' ] ], advice => 0);
rule('SET TABLESPACE', 'ALTER TABLE rewritten SET TABLESPACE elsewhere',
	[ [ 'rewritten', 'rewrite', 'AccessExclusiveLock' ] ], advice => 1);
rule('SET ACCESS METHOD of its own', 'ALTER TABLE rewritten SET ACCESS METHOD heap',
	[ [ 'rewritten', 'catalog', 'AccessExclusiveLock' ] ], advice => 0);
rule('CLUSTER', 'CLUSTER orders USING orders_pkey',
	[ [ 'orders', 'rewrite', 'AccessExclusiveLock' ] ], advice => 1);
rule('TRUNCATE', 'TRUNCATE lines',
	[ [ 'lines', 'data', 'AccessExclusiveLock' ] ], advice => 0);
rule('TRUNCATE CASCADE', 'TRUNCATE orders CASCADE',
	[ [ 'orders', 'data', 'AccessExclusiveLock' ],
	  [ 'lines', 'data', 'AccessExclusiveLock' ] ]);
rule('LOCK TABLE', 'LOCK TABLE orders IN SHARE MODE',
	[ [ 'orders', 'catalog', 'ShareLock' ] ], advice => 1);
rule('LOCK TABLE that blocks nothing', 'LOCK TABLE orders IN ROW SHARE MODE',
	[ [ 'orders', 'catalog', 'RowShareLock' ] ], advice => 0);
rule('REFRESH MATERIALIZED VIEW', 'REFRESH MATERIALIZED VIEW customer_names',
	[ [ 'customer_names', 'rewrite', 'AccessExclusiveLock' ] ], advice => 1);
rule('REFRESH MATERIALIZED VIEW CONCURRENTLY',
	"UPDATE customers SET name = 'renamed' WHERE id <= 10; REFRESH MATERIALIZED VIEW CONCURRENTLY customer_names",
	[ [ 'customer_names', 'data', 'ExclusiveLock' ] ], advice => 0);
rule('ANALYZE', 'ANALYZE orders',
	[ [ 'orders', 'catalog', 'ShareUpdateExclusiveLock' ] ], advice => 0);
rule('CREATE TRIGGER', 'CREATE TRIGGER orders_same BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger()',
	[ [ 'orders', 'catalog', 'ShareRowExclusiveLock' ] ]);
rule('COMMENT', "COMMENT ON TABLE orders IS 'what was bought'",
	[ [ 'orders', 'catalog', 'ShareUpdateExclusiveLock' ] ]);

# renames and drops that break the running application
rule('RENAME COLUMN', 'ALTER TABLE orders RENAME COLUMN note TO remark',
	[ [ 'orders', 'catalog', 'AccessExclusiveLock' ] ], advice => 1);
rule('RENAME TABLE', 'ALTER TABLE rewritten RENAME TO renamed',
	[ [ 'rewritten', 'catalog', 'AccessExclusiveLock' ] ], advice => 1);
rule('DROP COLUMN', 'ALTER TABLE orders DROP COLUMN note',
	[ [ 'orders', 'catalog', 'AccessExclusiveLock' ] ], advice => 1);
rule('DROP TABLE with a foreign key', 'DROP TABLE lines',
	[ [ 'lines', 'catalog', 'AccessExclusiveLock' ],
	  [ 'orders', 'catalog', 'AccessExclusiveLock' ] ], advice => 1);

# rows
rule('UPDATE without WHERE', 'UPDATE orders SET flag = flag + 1',
	[ [ 'orders', 'data', 'RowExclusiveLock' ] ], advice => 1);
rule('UPDATE with WHERE', 'UPDATE orders SET flag = 0 WHERE id = 1',
	[ [ 'orders', 'data', 'RowExclusiveLock' ] ], advice => 0);
rule('DELETE without WHERE', 'DELETE FROM lines',
	[ [ 'lines', 'data', 'RowExclusiveLock' ] ], advice => 1);

# domains
rule('ALTER DOMAIN ADD CONSTRAINT', 'ALTER DOMAIN plain_int ADD CONSTRAINT plain_positive CHECK (VALUE > 0)',
	[ [ 'scores', 'scan', 'ShareLock' ] ], advice => 1);
rule('ALTER DOMAIN SET NOT NULL', 'ALTER DOMAIN plain_int SET NOT NULL',
	[ [ 'scores', 'scan', 'ShareLock' ] ], advice => 1);

# partitions
rule('ATTACH PARTITION', 'ALTER TABLE events ATTACH PARTITION staging FOR VALUES FROM (2000) TO (3000)',
	[ [ 'events', 'catalog', 'ShareUpdateExclusiveLock', 'own' ],
	  [ 'staging', 'scan', 'AccessExclusiveLock' ],
	  [ 'events_default', 'scan', 'AccessExclusiveLock' ] ]);
rule('DETACH PARTITION', 'ALTER TABLE events DETACH PARTITION events_low',
	[ [ 'events', 'catalog', 'AccessExclusiveLock', 'own' ],
	  [ 'events_low', 'catalog', 'AccessExclusiveLock' ],
	  [ 'events_default', 'catalog', 'AccessExclusiveLock' ] ], advice => 1);
rule('CREATE TABLE ... PARTITION OF', 'CREATE TABLE events_high PARTITION OF events FOR VALUES FROM (4000) TO (6000)',
	[ [ 'events', 'catalog', 'AccessExclusiveLock' ],
	  [ 'events_default', 'scan', 'AccessExclusiveLock' ] ], no_run => 1);
rule('a volatile default on a partitioned table', 'ALTER TABLE events ADD COLUMN r float DEFAULT random()',
	[ [ 'events', 'rewrite', 'AccessExclusiveLock' ] ], advice => 1);
rule('CREATE TABLE with a foreign key', 'CREATE TABLE refunds (id int, order_id bigint REFERENCES orders)',
	[ [ 'orders', 'catalog', 'ShareRowExclusiveLock' ] ]);

# the default partition holds rows of the new bound: it is read, and fails
($rc, $out, $err) = $node->psql('postgres',
	'BEGIN; CREATE TABLE events_high PARTITION OF events FOR VALUES FROM (4000) TO (6000); ROLLBACK');
like($err, qr/would be violated by some row/,
	'CREATE TABLE ... PARTITION OF reads the default partition');

# relation_bytes is pg_total_relation_size(), of every partition of a
# partitioned table, without taking a lock
my $plan = plan_of('ALTER TABLE orders ADD COLUMN x int');
is($plan->{orders}[2],
	$node->safe_psql('postgres', "SELECT pg_total_relation_size('orders')"),
	'relation_bytes is pg_total_relation_size()');
$plan = plan_of('ALTER TABLE events ADD COLUMN x int');
is($plan->{events}[2],
	$node->safe_psql('postgres',
		"SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree('events')"),
	'relation_bytes of a partitioned table counts its partitions');
$plan = plan_of('ALTER TABLE ONLY orders ADD COLUMN x int');
ok($plan->{orders}[2] > 10_000_000, 'the tables are big: ' . $plan->{orders}[2] . ' bytes');

# the statements no transaction can hold, run for real
$plan = plan_of('VACUUM FULL rewritten');
is("$plan->{rewritten}[0] $plan->{rewritten}[1]", 'rewrite AccessExclusiveLock',
	'VACUUM FULL: the plan says a rewrite');
my $before = $node->safe_psql('postgres', "SELECT pg_relation_filenode('rewritten')");
$node->safe_psql('postgres', 'VACUUM FULL rewritten');
isnt($node->safe_psql('postgres', "SELECT pg_relation_filenode('rewritten')"),
	$before, 'VACUUM FULL: PostgreSQL rewrites it');
$plan = plan_of('VACUUM rewritten');
is("$plan->{rewritten}[0] $plan->{rewritten}[1]", 'scan ShareUpdateExclusiveLock',
	'VACUUM: the plan says a scan that blocks nothing');
$plan = plan_of('CREATE INDEX CONCURRENTLY rewritten_v ON rewritten (v)');
is("$plan->{rewritten}[0] $plan->{rewritten}[1] " . ($plan->{rewritten}[3] ? 'advice' : 'none'),
	'index ShareUpdateExclusiveLock none',
	'CREATE INDEX CONCURRENTLY: an index build that blocks nothing, no advice');
$node->safe_psql('postgres', 'CREATE INDEX CONCURRENTLY rewritten_v ON rewritten (v)');
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_index WHERE indrelid = 'rewritten'::regclass"),
	'1', 'CREATE INDEX CONCURRENTLY: PostgreSQL builds it');

# names that are not relations: advice only
$plan = plan_of("ALTER TYPE mood RENAME VALUE 'sad' TO 'blue'");
ok($plan->{'-'}[3], 'RENAME VALUE of an enum: advice');
$plan = plan_of('ALTER SCHEMA old_name RENAME TO new_name');
ok($plan->{'-'}[3], 'RENAME of a schema: advice');

$node->stop;
done_testing();
