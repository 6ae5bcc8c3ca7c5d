# Fleets of tenant schemas, with real sessions:
#
# - README.md's examples ("fleet-sql", "fleet-run-query"), as they stand
#   there, on two tenants (and a schema that is none).
# - morgenmigrate-push --schemas: the same set pushed to tenants of one
#   database and read from disk for tenants of another give the same
#   histories and the same pg_dump --schema-only.
# - A cancel, or the caller's statement_timeout, ends the whole fleet call
#   and is no tenant's failure; the tenants done before stay committed.
# - Memory: a CALL migrate_run over many tenants keeps nothing per tenant.
#   The backend's private memory (RssAnon, read by the session itself) at
#   the end of a run over 20 tenants and over 220: each tenant beyond the
#   20 may add less than 12 kB on average (the catalog entries of a
#   tenant's table, index and history tables, which a session that kept
#   them holds, take about 20 kB; this run keeps about 4).  A bound on
#   memory, not a timing.
use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../perl";
use MorgenmigrateTest qw(superuser dump_schema readme_example);

my $fixtures = "$FindBin::Bin/../../migrations";
my $node = PostgreSQL::Test::Cluster->new('fleet');
$node->init;
$node->start;
my $tmp = PostgreSQL::Test::Utils::tempdir();

# A new database with the extension and the tenant schemas named.
sub new_db
{
	my ($db, @tenants) = @_;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, join('', 'CREATE EXTENSION morgenmigrate;',
			map { "CREATE SCHEMA $_;" } @tenants));
}

# The histories of the tenants of DB, one line per row.
sub histories
{
	my ($db, @tenants) = @_;
	return join "\n", map {
		my $t = $_;
		$node->safe_psql($db,
			"SELECT '$t', filename, checksum, kind FROM $t.morgenmigrate_history ORDER BY filename")
	} @tenants;
}

# README.md's example, with the demo set as the migrations
system('cp', '-R', "$fixtures/demo", "$tmp/app-migrations") == 0 or die;
new_db('app', qw(tenant_a tenant_b));
my $out = $node->safe_psql('app',
	readme_example('fleet-sql', undef, '/srv/app/migrations' => "$tmp/app-migrations"));
like($out, qr/^tenant_a\|001_initial\.sql\|applied\|.*^tenant_b\|008_feed_token\.sql\|applied\|/ms,
	'fleet-sql: applies the demo set in both tenants');
unlike($out, qr/^tenant_\w\|\d{3}_\w+\.sql$/m, 'fleet-sql: and then no tenant is behind');
is($node->safe_psql('app', 'SELECT (SELECT count(*) FROM tenant_a.morgenmigrate_history) || \',\' || (SELECT count(*) FROM tenant_b.morgenmigrate_history)'),
	'8,8', 'fleet-sql: each tenant has its history');

# README.md's run over the tenants a query finds
new_db('app2', qw(tenant_a tenant_b other));
$node->safe_psql('app2',
	readme_example('fleet-run-query', undef, '/srv/app/migrations' => "$tmp/app-migrations"));
is($node->safe_psql('app2', q(SELECT string_agg(n.nspname, ',' ORDER BY 1) FROM pg_namespace n
	WHERE to_regclass(quote_ident(n.nspname) || '.morgenmigrate_history') IS NOT NULL)),
	'tenant_a,tenant_b', 'fleet-run-query: migrates the tenants the query finds, not the other schema');
is($node->safe_psql('app2', 'SELECT count(*) FROM tenant_b.morgenmigrate_history'),
	'8', 'fleet-run-query: every file in each');

# the client with --schemas, against the same files read from disk
my @tenants = qw(shop_1 shop_2 shop_3);
new_db('pushed', @tenants);
new_db('disk', @tenants);
my $client = "$tmp/client";
mkdir $client, 0700;
system('cp', '-R', "$fixtures/layouts/goose/.", $client) == 0 or die;
my ($stdout, $stderr) = ('', '');
IPC::Run::run([ 'morgenmigrate-push', '-h', $node->host, '-p', $node->port, '-U', superuser(),
		'-d', 'pushed', $client, 'run', '--schemas', join(',', reverse @tenants) ],
	'<', \undef, '>', \$stdout, '2>', \$stderr);
is($? >> 8, 0, 'morgenmigrate-push run --schemas: exits 0') or diag($stderr);
$node->safe_psql('disk',
	"CALL morgenmigrate.migrate_run('$fixtures/layouts/goose', schemas => '{" . join(',', @tenants) . "}')");
my $history = histories('pushed', @tenants);
like($history, qr/^shop_3\|00011_status_index\.sql\|/m, 'every tenant is recorded');
is($history, histories('disk', @tenants), 'the same histories as from the server\'s directory');
is(dump_schema($node, 'pushed'), dump_schema($node, 'disk'),
	'the same schema as from the server\'s directory');
IPC::Run::run([ 'morgenmigrate-push', '-h', $node->host, '-p', $node->port, '-U', superuser(),
		'-d', 'pushed', $client, 'check', '--schemas', join(',', @tenants) ],
	'<', \undef, '>', \$stdout, '2>', \$stderr);
is($? >> 8, 0, 'morgenmigrate-push check --schemas: exits 0 when every tenant is up to date') or diag($stderr);

# Memory: the backend's private memory at the end of a run over N tenants
# of database DB.
sub run_private_kb
{
	my ($db, $n) = @_;
	my $tenants = join ',', map { "t$_" } 1 .. $n;
	$node->safe_psql($db, join '', map { "CREATE SCHEMA t$_;" } 1 .. $n);
	my $kb = $node->safe_psql($db,
		"CALL morgenmigrate.migrate_run('$fixtures/fleet', schemas => '{$tenants}');\n"
		  . q(SELECT substring(s from 'RssAnon:[[:space:]]*([0-9]+)') FROM pg_read_file('/proc/self/status') s));
	is($node->safe_psql($db, "SELECT count(*) FROM t$n.morgenmigrate_history"), '4',
		"$n tenants: the last one is migrated");
	return $kb;
}
new_db('few');
new_db('many');
my $few = run_private_kb('few', 20);
my $many = run_private_kb('many', 220);
note sprintf('private memory after a run over 20 tenants: %d kB, over 220: %d kB (%.1f kB per tenant beyond 20)',
	$few, $many, ($many - $few) / 200);
cmp_ok(($many - $few) / 200, '<', 12, 'each tenant beyond the first 20 adds less than 12 kB');

# A cancel ends the whole fleet call, not only the tenant it came in:
# migrate_run waits for the lock of tenant c2, which another session holds,
# and is cancelled there; c1 stays migrated (committed), c2 and c3 are not
# touched, and the call fails with the cancel's 57014.
{
	new_db('cancel', qw(c1 c2 c3));
	my $holder = $node->background_psql('cancel');
	$holder->query_safe(
		q{SELECT pg_advisory_lock(1836020327, 'c2'::regnamespace::oid::text::int)});
	my $s = $node->background_psql('cancel', on_error_stop => 0);
	$s->query_safe('\set VERBOSITY verbose');
	my $pid = $s->query_safe('SELECT pg_backend_pid()');
	$s->{stderr} = '';
	$s->{stdin} .= "CALL morgenmigrate.migrate_run('$fixtures/fleet', schemas => '{c1,c2,c3}');\n";
	$s->{run}->pump_nb;
	ok( $node->poll_query_until('cancel', qq{
			SELECT EXISTS (SELECT FROM pg_locks
			 WHERE pid = $pid AND locktype = 'advisory' AND NOT granted)}),
		'cancel: the fleet run waits for the lock of c2');
	$node->safe_psql('cancel', "SELECT pg_cancel_backend($pid)");
	my ($still) = eval { $s->query('SELECT 1') };
	like($s->{stderr}, qr/ERROR:  57014: canceling statement due to user request/,
		'cancel: the fleet call fails with the cancel');
	is($node->safe_psql('cancel', q{
			SELECT (SELECT count(*) FROM c1.morgenmigrate_history) || ','
			    || (to_regclass('c2.morgenmigrate_history') IS NULL) || ','
			    || (to_regclass('c3.morgenmigrate_history') IS NULL) || ','
			    || (to_regclass('c3.accounts') IS NULL)}),
		'4,true,true,true',
		'cancel: c1 stays migrated, and no tenant after the cancel runs');
	$s->quit;
	$holder->quit;
}

# The caller's statement_timeout is no tenant's failure either: a file of
# tenant s2 waits (without a lock timeout of its own) for an advisory lock
# the test holds until the caller's statement_timeout ends the call; s1
# stays migrated, s2 keeps its first file and records no failure, s3 is
# not touched, and the call fails with 57014.  (The timeout ends a wait
# that would never end; the files before it take milliseconds of its 5 s.)
{
	new_db('timeout', qw(s1 s2 s3));
	my $dir = "$tmp/timeout-migrations";
	mkdir $dir or die "mkdir $dir: $!";
	append_to_file("$dir/001_first.sql", "CREATE TABLE first (id int);\n");
	append_to_file("$dir/002_wait.sql", "-- morgenmigrate: lock_timeout=0\n"
		  . "SELECT pg_advisory_xact_lock(4242) WHERE current_schema() = 's2';\n");
	my $holder = $node->background_psql('timeout');
	$holder->query_safe('SELECT pg_advisory_lock(4242)');
	my ($out, $err) = ('', '');
	$node->psql('timeout', "\\set VERBOSITY verbose\nSET statement_timeout = '5s';\n"
		  . "CALL morgenmigrate.migrate_run('$dir', schemas => '{s1,s2,s3}');",
		stdout => \$out, stderr => \$err);
	like($err, qr/ERROR:  57014: canceling statement due to statement timeout/,
		'statement_timeout: the fleet call fails with it');
	unlike($err, qr/migrations of schema "s2" failed/, 'statement_timeout: no tenant is said to have failed');
	is($node->safe_psql('timeout', q{
			SELECT (SELECT string_agg(filename, ',' ORDER BY filename) FROM s1.morgenmigrate_history) || '|'
			    || (SELECT string_agg(filename, ',' ORDER BY filename) FROM s2.morgenmigrate_history) || '|'
			    || (SELECT count(*) FROM s2.morgenmigrate_errors) || '|'
			    || (to_regclass('s3.morgenmigrate_history') IS NULL) || '|'
			    || (to_regclass('s3.first') IS NULL)}),
		'001_first.sql,002_wait.sql|001_first.sql|0|true|true',
		'statement_timeout: s1 stays migrated, s2 keeps its first file and records no failure, s3 is not touched');
	$holder->quit;
}

# A fleet reads pg_trigger whole once, not once per tenant: a file's end
# asks whether any trigger can be deferred, and the caches dropped between
# tenants (for flat memory) change no trigger.  pg_trigger has no index
# for that question, and grows with every tenant's foreign keys.
{
	my @t = map { "fk_$_" } 1 .. 12;
	new_db('fkscan', @t);
	my $dir = "$tmp/fk-migrations";
	mkdir $dir;
	PostgreSQL::Test::Utils::append_to_file("$dir/001_parents.sql",
		"CREATE TABLE parents (id int PRIMARY KEY);\n");
	PostgreSQL::Test::Utils::append_to_file("$dir/002_kids.sql",
		"CREATE TABLE kids (id int PRIMARY KEY, parent int REFERENCES parents);\n");
	my $scans = q{SELECT seq_scan FROM pg_stat_sys_tables WHERE relname = 'pg_trigger'};
	$node->safe_psql('fkscan', 'SELECT pg_stat_force_next_flush()');
	my $before = $node->safe_psql('fkscan', $scans);
	# the flush before the next command is read, so before the next psql
	$node->safe_psql('fkscan',
		"CALL morgenmigrate.migrate_run('$dir', schemas => '{" . join(',', @t) . "}');\n"
		  . 'SELECT pg_stat_force_next_flush();');
	my $read = $node->safe_psql('fkscan', $scans) - $before;
	is($node->safe_psql('fkscan', 'SELECT count(*) FROM fk_12.morgenmigrate_history'), '2',
		'fk fleet: every tenant is migrated');
	cmp_ok($read, '<=', 2, "fk fleet: pg_trigger read whole $read times for 12 tenants of 2 files");
}

$node->stop;
done_testing();
