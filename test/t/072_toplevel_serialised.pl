# Two sessions calling migrate_run at once on a set with CREATE INDEX
# CONCURRENTLY: runs stay serialised by the
# session advisory lock, both calls finish without error, each file is
# applied once, and the session waiting for the lock does not make the
# other's concurrent build wait for it (no undetected deadlock).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $node = PostgreSQL::Test::Cluster->new('toplevel_serialised');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION morgenmigrate');

my $dir = PostgreSQL::Test::Utils::tempdir();
PostgreSQL::Test::Utils::append_to_file("$dir/001_create_orders.sql", <<'EOF2');
CREATE TABLE orders (id integer PRIMARY KEY, customer integer NOT NULL, placed date NOT NULL);
INSERT INTO orders SELECT g, g % 97, date '2024-01-01' + g % 300 FROM generate_series(1, 20000) g;
EOF2
PostgreSQL::Test::Utils::append_to_file("$dir/002_index_orders.sql", <<'EOF2');
CREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer);
CREATE INDEX CONCURRENTLY orders_placed_idx ON orders (placed);
CREATE TABLE order_notes (order_id integer REFERENCES orders, note text);
EOF2
PostgreSQL::Test::Utils::append_to_file("$dir/003_index_notes.sql", <<'EOF2');
CREATE INDEX CONCURRENTLY order_notes_order_idx ON order_notes (order_id);
EOF2

my $key = '7885647260957961581';

# a third session holds the lock, so that both calls start waiting for it
my $holder = $node->background_psql('postgres');
$holder->query_safe("SELECT pg_advisory_lock($key)");

my @callers;
for my $i (1, 2)
{
	my $s = $node->background_psql('postgres', on_error_stop => 0);
	$s->query_safe('\set VERBOSITY verbose');
	my $pid = $s->query_safe('SELECT pg_backend_pid()');
	$s->{stderr} = '';
	$s->{stdout} = '';
	$s->{stdin} .= "CALL morgenmigrate.migrate_run('$dir');\n\\echo call_done\n";
	$s->{run}->pump_nb;
	push @callers, { s => $s, pid => $pid };
}
ok( $node->poll_query_until('postgres', qq{
		SELECT count(*) FROM pg_locks
		 WHERE locktype = 'advisory' AND objid = 1701735789 AND NOT granted
		   AND pid IN ($callers[0]{pid}, $callers[1]{pid})}, '2'),
	'both calls wait for the advisory lock');

$holder->query_safe("SELECT pg_advisory_unlock($key)");

# both calls must finish (30 s at most); then say who waits for what
my $finished = 0;
for (1 .. 300)
{
	$finished = $node->safe_psql('postgres', qq{
		SELECT count(*) FROM pg_stat_activity
		 WHERE pid IN ($callers[0]{pid}, $callers[1]{pid}) AND state = 'idle'});
	last if $finished eq '2';
	usleep(100_000);
}
is($finished, '2', 'both calls finish')
  or diag($node->safe_psql('postgres', q{
	SELECT pid, backend_type, state, wait_event_type, wait_event, backend_xmin, left(query, 60)
	  FROM pg_stat_activity WHERE datname = 'postgres'}));
if ($finished ne '2')
{
	# do not leave them hanging: cancel the callers (which stops the workers)
	$node->safe_psql('postgres', "SELECT pg_cancel_backend($_->{pid})") for @callers;
}

for my $c (@callers)
{
	$c->{s}{run}->pump until $c->{s}{stdout} =~ /call_done/;
	unlike($c->{s}{stderr}, qr/ERROR|deadlock/, "caller $c->{pid} finishes without error")
	  or diag($c->{s}{stderr});
	$c->{s}->quit;
}
$holder->quit;

is( $node->safe_psql('postgres', q{
		SELECT string_agg(filename, ',' ORDER BY filename) FROM morgenmigrate.schema_migrations}),
	'001_create_orders.sql,002_index_orders.sql,003_index_notes.sql',
	'each file is applied once');
is($node->safe_psql('postgres', 'SELECT count(*) FROM morgenmigrate.migration_errors'),
	'0', 'no failure is recorded');
is( $node->safe_psql('postgres', q{
		SELECT string_agg(indexrelid::regclass || ':' || indisvalid, ',' ORDER BY indexrelid::regclass::text)
		  FROM pg_index WHERE indrelid IN (to_regclass('orders'), to_regclass('order_notes'))}),
	'order_notes_order_idx:true,orders_customer_idx:true,orders_pkey:true,orders_placed_idx:true',
	'the concurrently built indexes are valid, once each');
is( $node->safe_psql('postgres', q{SELECT count(*) FROM pg_stat_activity
		WHERE backend_type = 'morgenmigrate worker'}),
	'0', 'no worker is left');
my $log = slurp_file($node->logfile);
unlike($log, qr/deadlock detected/, 'the server log shows no deadlock');

$node->stop;
done_testing();
