# The Quick start of README.md, run as it stands there, in order, in a new
# cluster (see readme_example: the lines the README runs as the postgres
# OS user run as the OS user owning the cluster, with /srv/app replaced by
# the test's own directory): the migration directory is made, the database
# "app" created, the psql session creates the extension in it, rehearses,
# applies and shows the first migration; the deploy command then exits 0
# with nothing left to apply, and 1 with the CONTEXT line when a new
# migration fails, leaving nothing of it.  Every line that connects says
# which OS user runs it, and none connects to a database that does not
# exist or lacks the extension (each would fail here).
use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../perl";
use MorgenmigrateTest qw(readme_example);

my $node = PostgreSQL::Test::Cluster->new('readme');
$node->init;
$node->start;
my $app = PostgreSQL::Test::Utils::tempdir() . '/srv-app';
my $dir = "$app/migrations";

# Runs a shell example of the Quick start with STDIN; returns (exit code,
# stdout, stderr).
sub run_example
{
	my ($name, $stdin) = @_;
	my $script = readme_example($name, undef, '/srv/app' => $app);
	local %ENV = %ENV;
	delete @ENV{qw(PGDATABASE PGUSER PGOPTIONS PGSERVICE)};
	$ENV{PGHOST} = $node->host;
	$ENV{PGPORT} = $node->port;
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'sh', '-e', '-c', $script ], '<', \($stdin // ''), '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

my ($rc, $out, $err) = run_example('quickstart-directory');
is($rc, 0, 'quickstart-directory: runs') or diag($err);
ok(-f "$dir/001_create_teams.sql", 'quickstart-directory: the first migration is there');
ok((stat $dir)[2] & 05 && (stat "$dir/001_create_teams.sql")[2] & 04,
	'quickstart-directory: readable by every user (the server\'s among them)');

is($node->safe_psql('postgres', q(SELECT count(*) FROM pg_database WHERE datname = 'app')),
	'0', 'there is no database app before the Quick start makes it');
# the session's input is the README's SQL block, as typed into psql
my $sql = readme_example('quickstart-sql', undef, '/srv/app' => $app);
($rc, $out, $err) = run_example('quickstart-database', $sql);
is($rc, 0, 'quickstart-database: createdb and the psql session run');
is($err, '', 'quickstart-sql: without an error') or diag($err);
like($out, qr/^CREATE EXTENSION$/m, 'quickstart-sql: creates the extension in app');
like($out, qr/^ 001_create_teams\.sql \| rehearsed .*^ 001_create_teams\.sql \| applied .*^ 001_create_teams\.sql \| applied /ms,
	'quickstart-sql: rehearses, applies, and shows the first migration applied');
is($node->safe_psql('app', q(SELECT string_agg(filename || ':' || kind, ',') FROM morgenmigrate.schema_migrations)),
	'001_create_teams.sql:applied', 'quickstart-sql: the history of app has it');
is($node->safe_psql('app', q(SELECT to_regclass('public.teams') IS NOT NULL)),
	't', 'quickstart-sql: and its table is there');

($rc, $out, $err) = run_example('quickstart-deploy');
is($rc, 0, 'quickstart-deploy: exits 0') or diag($err);
unlike($out, qr/001_create_teams/, 'quickstart-deploy: with nothing left to apply');

PostgreSQL::Test::Utils::append_to_file("$dir/002_add_teams_code.sql",
	"ALTER TABLE teams ADD COLUMN code text;\nINSERT INTO teamz VALUES (1, 'core');\n");
chmod 0644, "$dir/002_add_teams_code.sql";
($rc, $out, $err) = run_example('quickstart-deploy');
is($rc, 1, 'quickstart-deploy: exits 1 when a migration fails');
like($err, qr/^ERROR:  relation "teamz" does not exist\n(?:LINE .*\n.*\n)?CONTEXT:  migration "002_add_teams_code\.sql", line 2$/m,
	'quickstart-deploy: with the error and its CONTEXT line on stderr');
is($node->safe_psql('app',
		q(SELECT count(*) FROM morgenmigrate.schema_migrations WHERE filename = '002_add_teams_code.sql')),
	'0', 'quickstart-deploy: the failed migration is not recorded');
is($node->safe_psql('app',
		q(SELECT count(*) FROM pg_attribute WHERE attrelid = 'public.teams'::regclass AND attname = 'code')),
	'0', 'quickstart-deploy: and nothing of it stays');

$node->stop;
done_testing();
