# A pg_cron job that runs migrate_check fails on drift, and says what
# changed, by whom and when, in cron.job_run_details; the same job in a
# database without drift succeeds, so it is the drift that fails it.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../perl";
use MorgenmigrateTest qw(write_set cron_node wait_for_cron_runs cron_first_run);

my $node = cron_node('drift_cron');
my $base = PostgreSQL::Test::Utils::tempdir();
my $set = write_set("$base/set",
	'001_users.sql' => "CREATE TABLE users (id int PRIMARY KEY, email text);\n");

for my $db ('app', 'tenant')
{
	$node->safe_psql($db, 'SELECT morgenmigrate.drift_enable()');
	$node->safe_psql($db, "SELECT morgenmigrate.migrate_apply('$set')");
}
# the hotfix made by hand in one database only
$node->safe_psql('app', 'CREATE INDEX users_email_hotfix ON users (email)');

my $check = "SELECT morgenmigrate.migrate_check('$set')";
my $app_job = $node->safe_psql('app',
	"SELECT cron.schedule('check_app', '* * * * *', \$\$$check\$\$)");
my $tenant_job = $node->safe_psql('app',
	"SELECT cron.schedule_in_database('check_tenant', '* * * * *', \$\$$check\$\$, 'tenant')");

is(wait_for_cron_runs($node, 2), 2, 'both jobs finished a run');
$node->safe_psql('app', 'SELECT cron.unschedule(jobid) FROM cron.job');

my $app_run = cron_first_run($node, $app_job);
like($app_run, qr/^failed\|/, 'the migrate_check job fails on drift');
like($app_run, qr/1 schema change was made outside the migrations/,
	'its message says the schema changed outside the migrations');
like($app_run, qr/CREATE INDEX public\.users_email_hotfix by postgres at \d{4}-\d\d-\d\d /,
	'and names what changed, by whom and when')
  or note $node->safe_psql('app', 'SELECT * FROM cron.job_run_details');
like(cron_first_run($node, $tenant_job), qr/^succeeded\|/,
	'the same job in a database without drift succeeds');

# acknowledged, the check passes
$node->safe_psql('app', q(SELECT morgenmigrate.drift_acknowledge('hotfix index, migration 002 adds it')));
my ($rc, $out, $err) = $node->psql('app', $check);
is($rc, 0, 'after acknowledging, migrate_check passes');

$node->stop;
done_testing();
