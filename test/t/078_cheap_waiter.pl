# A migrate_apply that waits for the migration lock while migrate_run's
# worker builds an index concurrently holds a snapshot the build must wait
# for: a deadlock, which PostgreSQL's detector breaks by cancelling one
# side.  By design the cheap side yields: the waiting migrate_apply (which
# can simply run again) gets the deadlock error, and the build, however
# long it has run, goes on and finishes.  The cycle forms only when the
# build reaches its wait for older snapshots, long after the waiter's first
# deadlock check.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../perl";
use MorgenmigrateTest qw(start_background finish_background);

my $node = PostgreSQL::Test::Cluster->new('cheap_waiter');
$node->init;
$node->append_conf('postgresql.conf', "deadlock_timeout = '100ms'\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION morgenmigrate');

my $dir = PostgreSQL::Test::Utils::tempdir();
PostgreSQL::Test::Utils::append_to_file("$dir/001_create_big.sql", <<'EOF');
CREATE FUNCTION slow_key(integer) RETURNS integer
    LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    PERFORM pg_sleep(coalesce(nullif(current_setting('mmtest.sleep', true), ''), '0')::float8);
    RETURN $1;
END $$;
CREATE TABLE big (id integer PRIMARY KEY);
INSERT INTO big SELECT generate_series(1, 100);
EOF
PostgreSQL::Test::Utils::append_to_file("$dir/002_slow_index.sql",
	"CREATE INDEX CONCURRENTLY big_slow_idx ON big (slow_key(id));\n");
$node->safe_psql('postgres', "CALL morgenmigrate.migrate_run('$dir', '001_create_big.sql')");

my ($run) = start_background($node, 'postgres',
	"CALL morgenmigrate.migrate_run('$dir')", 'SET mmtest.sleep = 0.01');
ok( $node->poll_query_until('postgres', q{
		SELECT count(*) FROM pg_stat_activity
		 WHERE backend_type = 'morgenmigrate worker'
		   AND query ~ 'CREATE INDEX CONCURRENTLY big_slow_idx'}, '1'),
	'the worker is building the index');

my ($apply) = start_background($node, 'postgres',
	"SELECT count(*) FROM morgenmigrate.migrate_apply('$dir')");
like(finish_background($apply), qr/ERROR:  deadlock detected/,
	'the waiting migrate_apply gets the deadlock error');
$apply->quit;

is(finish_background($run), '', 'the index build goes on and the run succeeds');
$run->quit;
is( $node->safe_psql('postgres', q{
		SELECT indisvalid FROM pg_index WHERE indexrelid = 'big_slow_idx'::regclass}),
	't', 'the index is valid');
is( $node->safe_psql('postgres', q{
		SELECT string_agg(filename, ',' ORDER BY filename) FROM morgenmigrate.schema_migrations}),
	'001_create_big.sql,002_slow_index.sql', 'the history is complete');

# run again, the migrate_apply finds nothing to do
is($node->safe_psql('postgres', "SELECT count(*) FROM morgenmigrate.migrate_apply('$dir')"),
	'0', 'migrate_apply run again has nothing left to apply');

$node->stop;
done_testing();
