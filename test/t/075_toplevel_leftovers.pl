# What an interrupted concurrent build leaves behind is dropped before the
# file is tried again (a NOTICE says so), also when the build does not name its index
# (CREATE INDEX CONCURRENTLY ON t (...)) and for REINDEX ... CONCURRENTLY,
# whose interrupted run leaves an INVALID NAME_ccnew index.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('toplevel_leftovers');
$node->init;
$node->start;

# Each case: a set whose last file holds the slow statement, in a database
# of its own.  The index expression sleeps mmtest.sleep seconds per row.
my $create_big = <<'EOF';
CREATE FUNCTION slow_key(integer) RETURNS integer
    LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    PERFORM pg_sleep(coalesce(nullif(current_setting('mmtest.sleep', true), ''), '0')::float8);
    RETURN $1;
END $$;
CREATE TABLE big (id integer PRIMARY KEY);
INSERT INTO big SELECT generate_series(1, 200);
EOF

# Runs the set with the slow statement, cancels the call while the worker
# sleeps in the index expression, then runs the set again without the
# sleep.  Returns the stderr of the second run.
sub interrupt_then_retry
{
	my ($db, $dir) = @_;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, 'CREATE EXTENSION morgenmigrate');
	# 001 first, without the sleep
	$node->safe_psql($db, "CALL morgenmigrate.migrate_run('$dir', '001_create_big.sql')");
	my $s = $node->background_psql($db, on_error_stop => 0);
	$s->query_safe('SET mmtest.sleep = 0.05');
	my $pid = $s->query_safe('SELECT pg_backend_pid()');
	$s->{stdout} = '';
	$s->{stdin} .= "CALL morgenmigrate.migrate_run('$dir');\n\\echo call_done\n";
	$s->{run}->pump_nb;
	ok( $node->poll_query_until('postgres', q{
			SELECT count(*) FROM pg_stat_activity
			 WHERE backend_type = 'morgenmigrate worker' AND wait_event = 'PgSleep'}, '1'),
		"$db: the worker is in the slow build");
	$node->safe_psql('postgres', "SELECT pg_cancel_backend($pid)");
	$s->{run}->pump until $s->{stdout} =~ /call_done/;
	like($s->{stderr}, qr/canceling statement due to user request/, "$db: the call is cancelled");
	$s->quit;
	ok( $node->poll_query_until('postgres', q{
			SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'morgenmigrate worker'}, '0'),
		"$db: no worker is left");
	my ($out, $err) = ('', '');
	my $ret = $node->psql($db, "CALL morgenmigrate.migrate_run('$dir')",
		stdout => \$out, stderr => \$err);
	is($ret, 0, "$db: the next run succeeds") or diag($err);
	return $err;
}

# an unnamed concurrent build
{
	my $dir = PostgreSQL::Test::Utils::tempdir();
	PostgreSQL::Test::Utils::append_to_file("$dir/001_create_big.sql", $create_big);
	PostgreSQL::Test::Utils::append_to_file("$dir/002_unnamed_index.sql",
		"CREATE INDEX CONCURRENTLY ON big (slow_key(id));\n");
	my $err = interrupt_then_retry('unnamed_db', $dir);
	like($err, qr/NOTICE:  dropping invalid index/,
		'unnamed build: the retry says it drops the INVALID index');
	is( $node->safe_psql('unnamed_db', q{
			SELECT count(*) || ',' || count(*) FILTER (WHERE NOT indisvalid)
			  FROM pg_index WHERE indrelid = 'big'::regclass}),
		'2,0', 'unnamed build: the pkey and one valid index, no INVALID one left');
}

# an interrupted REINDEX INDEX CONCURRENTLY
{
	my $dir = PostgreSQL::Test::Utils::tempdir();
	PostgreSQL::Test::Utils::append_to_file("$dir/001_create_big.sql",
		$create_big . "CREATE INDEX big_slow_idx ON big (slow_key(id));\n");
	PostgreSQL::Test::Utils::append_to_file("$dir/002_reindex.sql",
		"REINDEX INDEX CONCURRENTLY big_slow_idx;\n");
	my $err = interrupt_then_retry('reindex_db', $dir);
	like($err, qr/NOTICE:  dropping invalid index public\.big_slow_idx_ccnew/,
		'REINDEX CONCURRENTLY: the retry says it drops the INVALID _ccnew index');
	is( $node->safe_psql('reindex_db', q{
			SELECT string_agg(indexrelid::regclass || ':' || indisvalid, ',' ORDER BY indexrelid::regclass::text)
			  FROM pg_index WHERE indrelid = 'big'::regclass}),
		'big_pkey:true,big_slow_idx:true',
		'REINDEX CONCURRENTLY: the index is valid and no _ccnew is left');
}

$node->stop;
done_testing();
