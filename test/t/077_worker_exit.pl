# A cancelled migrate_run keeps the migration lock until its background
# worker has exited: a run queued behind it must not find the dying build's
# index and skip its CREATE INDEX CONCURRENTLY IF NOT EXISTS.  The build is
# made slow by an index expression that spends its time in a call that does
# not check for interrupts (md5() of 100 MB), so that a terminated worker
# takes a while to go.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../perl";
use MorgenmigrateTest qw(start_background finish_background);

my $node = PostgreSQL::Test::Cluster->new('worker_exit');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION morgenmigrate');

my $dir = PostgreSQL::Test::Utils::tempdir();
PostgreSQL::Test::Utils::append_to_file("$dir/001_create_big.sql", <<'EOF');
CREATE FUNCTION stubborn_key(integer) RETURNS integer
    LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF current_setting('mmtest.stubborn', true) = 'on' THEN
        PERFORM md5(repeat('x', 100000000));
    END IF;
    RETURN $1;
END $$;
CREATE TABLE big (id integer PRIMARY KEY);
INSERT INTO big SELECT generate_series(1, 30);
EOF
PostgreSQL::Test::Utils::append_to_file("$dir/002_stubborn_index.sql",
	"CREATE INDEX CONCURRENTLY IF NOT EXISTS big_stubborn_idx ON big (stubborn_key(id));\n");
$node->safe_psql('postgres', "CALL morgenmigrate.migrate_run('$dir', '001_create_big.sql')");

# the first run builds slowly
my ($first, $pid) = start_background($node, 'postgres',
	"CALL morgenmigrate.migrate_run('$dir')", 'SET mmtest.stubborn = on');
ok( $node->poll_query_until('postgres', q{
		SELECT count(*) FROM pg_stat_progress_create_index p
		  JOIN pg_stat_activity a USING (pid)
		 WHERE a.backend_type = 'morgenmigrate worker' AND p.phase LIKE 'building index%'}, '1'),
	'the first run\'s worker is building the index');
my $wpid = $node->safe_psql('postgres',
	q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'morgenmigrate worker'});

# a second run waits for the migration lock
my ($second, $pid2) = start_background($node, 'postgres',
	"CALL morgenmigrate.migrate_run('$dir')");
ok( $node->poll_query_until('postgres', qq{
		SELECT count(*) FROM pg_locks
		 WHERE locktype = 'advisory' AND pid = $pid2 AND NOT granted}, '1'),
	'the second run waits for the migration lock');

$node->safe_psql('postgres', "SELECT pg_cancel_backend($pid)");
my $first_err = finish_background($first);
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE pid = $wpid"),
	'0', 'the cancelled call returns only once its worker has exited');
like($first_err, qr/ERROR:  canceling statement due to user request/,
	'the first run is cancelled');
$first->quit;

my $second_err = finish_background($second);
unlike($second_err, qr/ERROR/, 'the second run succeeds');
like($second_err, qr/NOTICE:  dropping invalid index public\.big_stubborn_idx/,
	'the second run drops what the cancelled build left');
$second->quit;
is( $node->safe_psql('postgres', q{
		SELECT indisvalid FROM pg_index WHERE indexrelid = 'big_stubborn_idx'::regclass}),
	't', 'the index is valid when the file is recorded as applied');
is( $node->safe_psql('postgres', q{
		SELECT string_agg(filename, ',' ORDER BY filename) FROM morgenmigrate.schema_migrations}),
	'001_create_big.sql,002_stubborn_index.sql', 'the history is complete');

$node->stop;
done_testing();
