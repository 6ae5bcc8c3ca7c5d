# Many sessions applying the same directory at once: 8 clients,
# each calling migrate_apply on the same 50 files 20 times, a few files per
# call so that the clients really interleave.  Every file must be applied
# exactly once (one client reports it, one history row, one table with its
# one row), and no client may ever see an error.  A second round mixes
# CALL migrate_run (session-level lock) with migrate_apply (transaction-level
# lock) on another directory.
use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $nfiles = 50;
my $nclients = 8;
my $nloops = 20;

my $node = PostgreSQL::Test::Cluster->new('stress');
$node->init;
$node->append_conf('postgresql.conf', "max_connections = 40\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION morgenmigrate');

# 50 files: each creates its table and puts one row in it; a short sleep
# keeps the lock held long enough for the others to queue behind it
my $dir = PostgreSQL::Test::Utils::tempdir();
for my $i (1 .. $nfiles)
{
	my $name = sprintf('%03d_create_stress_%03d.sql', $i, $i);
	PostgreSQL::Test::Utils::append_to_file("$dir/$name",
		    "CREATE TABLE stress_$i (id integer PRIMARY KEY);\n"
		  . "INSERT INTO stress_$i VALUES ($i);\n"
		  . "SELECT pg_sleep(0.005);\n");
}

# Starts a psql client running a script; returns its handle and outputs.
sub start_client
{
	my ($script, $db) = @_;
	my %c = (out => '', err => '');
	my @cmd = (
		'psql', '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1',
		'-d', $node->connstr($db // 'postgres'));
	$c{handle} = IPC::Run::start(\@cmd, '<', \$script, '>', \$c{out},
		'2>', \$c{err});
	return \%c;
}

my @clients;
for my $c (1 .. $nclients)
{
	# odd clients take three files per call, even ones everything pending
	my $call = $c % 2
	  ? "SELECT filename FROM morgenmigrate.migrate_apply('$dir', steps => 3);\n"
	  : "SELECT filename FROM morgenmigrate.migrate_apply('$dir');\n";
	push @clients, start_client($call x $nloops);
}

my %applied_by_clients;
for my $c (0 .. $#clients)
{
	my $client = $clients[$c];
	my $ok = $client->{handle}->finish;
	ok($ok, "client " . ($c + 1) . " exited cleanly");
	is($client->{err}, '', "client " . ($c + 1) . " saw no error or warning");
	$applied_by_clients{$_}++ for grep { length } split /\n/, $client->{out};
}

is(scalar(keys %applied_by_clients), $nfiles,
	'the clients together reported every file as applied');
is(scalar(grep { $_ != 1 } values %applied_by_clients), 0,
	'no file was reported applied by two calls');
is( $node->safe_psql('postgres',
		'SELECT count(*), count(DISTINCT filename) FROM morgenmigrate.schema_migrations'),
	"$nfiles|$nfiles",
	'the history has one row per file');
is( $node->safe_psql('postgres',
		"SELECT count(*) FROM pg_class WHERE relname ~ '^stress_[0-9]+\$' AND relkind = 'r'"),
	$nfiles, 'each table exists once');

# each file's INSERT ran exactly once
my $sum = join(' UNION ALL ', map { "SELECT id FROM stress_$_" } 1 .. $nfiles);
is($node->safe_psql('postgres', "SELECT count(*), sum(id) FROM ($sum) s"),
	"$nfiles|" . ($nfiles * ($nfiles + 1) / 2),
	'each table holds the one row its file inserted');

# applied in version order: applied_at increases with the file name
is( $node->safe_psql('postgres', q{
		SELECT count(*) FROM (
		  SELECT filename, applied_at,
		         lag(applied_at) OVER (ORDER BY filename) AS prev
		    FROM morgenmigrate.schema_migrations) s
		 WHERE prev IS NOT NULL AND applied_at <= prev}),
	'0', 'the files were applied in version order');
is( $node->safe_psql('postgres',
		"SELECT string_agg(DISTINCT state, ',') FROM morgenmigrate.migrate_status('$dir')"),
	'applied', 'migrate_status(dir) shows every file applied');
is($node->safe_psql('postgres', 'SELECT count(*) FROM morgenmigrate.migration_errors'),
	'0', 'no failure was recorded');

# Round two: CALL migrate_run and migrate_apply race on a second directory,
# in a database of its own.
$node->safe_psql('postgres', 'CREATE DATABASE mixed');
$node->safe_psql('mixed', 'CREATE EXTENSION morgenmigrate');
my $dir2 = PostgreSQL::Test::Utils::tempdir();
for my $i (1 .. 20)
{
	PostgreSQL::Test::Utils::append_to_file(
		sprintf('%s/%03d_create_mixed_%03d.sql', $dir2, $i, $i),
		"CREATE TABLE mixed_$i (id integer);\nSELECT pg_sleep(0.005);\n");
}
@clients = ();
for my $c (1 .. $nclients)
{
	my $call = $c % 2
	  ? "CALL morgenmigrate.migrate_run('$dir2');\n"
	  : "SELECT filename FROM morgenmigrate.migrate_apply('$dir2', steps => 2);\n";
	push @clients, start_client($call x 5, 'mixed');
}
for my $c (0 .. $#clients)
{
	my $ok = $clients[$c]->{handle}->finish;
	ok($ok, "mixed client " . ($c + 1) . " exited cleanly");
	is($clients[$c]->{err}, '', "mixed client " . ($c + 1) . " saw no error");
}
is( $node->safe_psql('mixed',
		'SELECT count(*) FROM morgenmigrate.schema_migrations'),
	'20', 'migrate_run and migrate_apply together applied each file once');
is( $node->safe_psql('mixed',
		"SELECT count(*) FROM pg_class WHERE relname ~ '^mixed_[0-9]+\$'"),
	'20', 'each of those tables exists once');
is( $node->safe_psql('postgres',
		"SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"),
	'0', 'no session kept the advisory lock');

$node->stop;
done_testing();
