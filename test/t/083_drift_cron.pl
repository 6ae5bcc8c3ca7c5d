# A pg_cron job that runs migrate_check fails on drift, and says what
# changed, by whom and when, in cron.job_run_details; once the change is
# acknowledged the same check passes.  (One job: a second one scheduled
# with cron.schedule_in_database right after it was, in one run of this
# test, never started by pg_cron.)
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../perl";
use MorgenmigrateTest qw(write_set cron_node wait_for_cron_runs cron_first_run superuser);

my $node = cron_node('drift_cron');
my $base = PostgreSQL::Test::Utils::tempdir();
my $set = write_set("$base/set",
	'001_users.sql' => "CREATE TABLE users (id int PRIMARY KEY, email text);\n");

$node->safe_psql('app', 'SELECT morgenmigrate.drift_enable()');
$node->safe_psql('app', "SELECT morgenmigrate.migrate_apply('$set')");
my ($rc, $out, $err) = $node->psql('app', "SELECT morgenmigrate.migrate_check('$set')");
is($rc, 0, 'migrate_check passes before the hotfix');
# the hotfix made by hand
$node->safe_psql('app', 'CREATE INDEX users_email_hotfix ON users (email)');

my $check = "SELECT morgenmigrate.migrate_check('$set')";
my $app_job = $node->safe_psql('app',
	"SELECT cron.schedule('check_app', '* * * * *', \$\$$check\$\$)");

is(wait_for_cron_runs($node, 1), 1, 'the job finished a run');
$node->safe_psql('app', 'SELECT cron.unschedule(jobid) FROM cron.job');

my $app_run = cron_first_run($node, $app_job);
like($app_run, qr/^failed\|/, 'the migrate_check job fails on drift');
like($app_run, qr/1 schema change was made outside the migrations/,
	'its message says the schema changed outside the migrations');
my $super = superuser();
like($app_run, qr/CREATE INDEX public\.users_email_hotfix by \Q$super\E at \d{4}-\d\d-\d\d /,
	'and names what changed, by whom and when')
  or note $node->safe_psql('app', 'SELECT * FROM cron.job_run_details');

# acknowledged, the check passes
$node->safe_psql('app', q(SELECT morgenmigrate.drift_acknowledge('hotfix index, migration 002 adds it')));
($rc, $out, $err) = $node->psql('app', $check);
is($rc, 0, 'after acknowledging, migrate_check passes');

$node->stop;
done_testing();
