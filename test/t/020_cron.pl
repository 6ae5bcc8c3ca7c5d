# Migrations run by the real pg_cron: a scheduled
# migrate_apply() applies a pending set on its own; a failing file makes the
# run fail in cron.job_run_details with the migration's error and leaves
# nothing of that run applied; a non-atomic job keeps its progress and
# records the failure; CALL migrate_run() works as a job of its own and
# refuses to run when the job's command holds more than the CALL.  The
# scheduling recipes and the failed-runs query are those of
# docs/operations.md, read from it.
#
# pg_cron 1.4 schedules by the minute: every job is scheduled first, then
# one wait polls cron.job_run_details until each job has finished once.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../perl";
use MorgenmigrateTest
  qw(write_set guide_example cron_node wait_for_cron_runs cron_first_run);

# A recipe of the guide for this test: every minute instead of every five,
# the test's directory, job name and database.
sub recipe
{
	my ($name, $dir, $jobname, $db) = @_;
	my $sql = guide_example($name);
	$sql =~ s{\*/5 \* \* \* \*}{* * * * *} or die "$name: no schedule";
	$sql =~ s{/srv/app/migrations}{$dir} or die "$name: no directory";
	$sql =~ s{'migrate-app[a-z-]*'}{'$jobname'} or die "$name: no job name";
	$sql =~ s{'app'\)}{'$db')} if defined $db;
	return $sql;
}

my $node = cron_node('cron');

my $base = PostgreSQL::Test::Utils::tempdir();

# A set that applies.
my $good = write_set(
	"$base/good",
	'001_cron_teams.sql' => "CREATE TABLE cron_teams (id int PRIMARY KEY, name text NOT NULL);\n",
	'002_cron_members.sql' =>
	  "CREATE TABLE cron_members (id int PRIMARY KEY,\n    team_id int NOT NULL REFERENCES cron_teams);\n",
	'003_cron_seed.sql' => "INSERT INTO cron_teams VALUES (1, 'core'), (2, 'web');\n");

# A set whose second file fails on line 3 (atomic: nothing may stay).
my $bad = write_set(
	"$base/bad",
	'101_bad_accounts.sql' => "CREATE TABLE bad_accounts (id int PRIMARY KEY);\n",
	'102_bad_broken.sql' =>
	  "-- refers to a table that does not exist\nINSERT INTO bad_accounts VALUES (1);\nINSERT INTO bad_no_such_table VALUES (1);\n");

# The same kind of set for a non-atomic job: 201 stays, 202 fails, 203 waits.
my $partial = write_set(
	"$base/partial",
	'201_part_a.sql' => "CREATE TABLE part_a (id int);\n",
	'202_part_b.sql' => "CREATE TABLE part_b (id int);\nINSERT INTO part_no_such_table VALUES (1);\n",
	'203_part_c.sql' => "CREATE TABLE part_c (id int);\n");

# A set for CALL migrate_run(), and one for the CALL that has company.
my $run = write_set(
	"$base/run",
	'301_run_a.sql' => "CREATE TABLE run_a (id int);\n",
	'302_run_b.sql' => "ALTER TABLE run_a ADD COLUMN note text;\n");
my $run_multi = write_set("$base/run_multi",
	'401_multi_a.sql' => "CREATE TABLE multi_a (id int);\n");

# A failing set for CALL migrate_run(): 601 commits, 602 fails, 603 waits.
my $run_fail = write_set(
	"$base/run_fail",
	'601_rf_a.sql' => "CREATE TABLE rf_a (id int);\n",
	'602_rf_b.sql' => "CREATE TABLE rf_b (id int);\nINSERT INTO rf_no_such_table VALUES (1);\n",
	'603_rf_c.sql' => "CREATE TABLE rf_c (id int);\n");

# A set for another database, scheduled from the pg_cron database.
my $tenant = write_set("$base/tenant",
	'501_tenant_a.sql' => "CREATE TABLE tenant_a (id int);\n");

my %job;
# The guide's recipes.
$job{good} = $node->safe_psql('app', recipe('cron-schedule', $good, 'migrate_good'));
$job{run} = $node->safe_psql('app', recipe('cron-schedule-run', $run, 'migrate_run'));
$job{tenant} = $node->safe_psql('app',
	recipe('cron-schedule-in-database', $tenant, 'migrate_tenant', 'tenant'));
# The failure cases of the guide's table.
for (
	[ bad => qq(SELECT morgenmigrate.migrate_apply('$bad')) ],
	[
		partial =>
		  qq(SELECT * FROM morgenmigrate.migrate_apply('$partial', atomic => false))
	],
	[ run_multi => qq(CALL morgenmigrate.migrate_run('$run_multi'); SELECT 1) ],
	[ run_fail => qq(CALL morgenmigrate.migrate_run('$run_fail')) ])
{
	my ($name, $command) = @$_;
	$job{$name} = $node->safe_psql('app',
		qq(SELECT cron.schedule('migrate_$name', '* * * * *', \$cmd\$$command\$cmd\$)));
}
is( $node->safe_psql('app', qq(SELECT string_agg(command, ' / ' ORDER BY jobid) FROM cron.job WHERE jobid IN ($job{good}, $job{run}, $job{tenant}))),
	"SELECT morgenmigrate.migrate_apply('$good') / CALL morgenmigrate.migrate_run('$run') / SELECT morgenmigrate.migrate_apply('$tenant')",
	'the guide\'s recipes scheduled the jobs they show');

# One wait for all jobs: until each has a finished run, at most ~150 s.
my $njobs = scalar keys %job;
is(wait_for_cron_runs($node, $njobs), $njobs, 'every pg_cron job finished a run');
note $node->safe_psql('app',
	'SELECT jobid, runid, status, return_message FROM cron.job_run_details ORDER BY runid');
# The guide's query of failed runs lists exactly the failed jobs.
my $failures = guide_example('cron-failures') =~ s/;\s*$//r;
is( $node->safe_psql('app',
		"SELECT string_agg(DISTINCT jobname, ',') FROM ($failures) f"),
	'migrate_bad,migrate_run_fail,migrate_run_multi',
	'the cron-failures query lists the failed migration jobs');
like($node->safe_psql('app', "SELECT return_message FROM ($failures) f WHERE jobname = 'migrate_bad' LIMIT 1"),
	qr/CONTEXT:  migration "102_bad_broken\.sql", line 3/,
	'with the error and its CONTEXT line');

# Stop the schedule; the assertions below look at each job's first run.
$node->safe_psql('app', 'SELECT cron.unschedule(jobid) FROM cron.job');
is( $node->safe_psql('app',
		"SELECT count(DISTINCT jobid) || ' ' || count(jobname) FROM ($failures) f"),
	'3 0', 'the query still lists the failed runs after the jobs are unscheduled');

# The first finished run of a job: "status|return_message".
sub first_run
{
	my ($name) = @_;
	return cron_first_run($node, $job{$name});
}

# The history rows of the files whose names match a LIKE pattern.
sub history
{
	my ($db, $pattern) = @_;
	return $node->safe_psql($db,
		qq(SELECT string_agg(filename || ':' || kind, ',' ORDER BY filename)
		   FROM morgenmigrate.schema_migrations WHERE filename LIKE '$pattern'));
}

# A scheduled migrate_apply applies the pending set.
like(first_run('good'), qr/^succeeded\|/, 'the migrate_apply job succeeded');
is( history('app', '00%'),
	'001_cron_teams.sql:applied,002_cron_members.sql:applied,003_cron_seed.sql:applied',
	'the job recorded every file of the good set');
is($node->safe_psql('app', q(SELECT to_regclass('public.cron_teams') IS NOT NULL AND to_regclass('public.cron_members') IS NOT NULL)),
	't', 'the good set created its tables');
is($node->safe_psql('app', 'SELECT string_agg(name, \',\' ORDER BY id) FROM cron_teams'),
	'core,web', 'the good set ran its data migration');
is($node->safe_psql('app', "SELECT count(*) FROM morgenmigrate.migrate_status('$good') WHERE filename LIKE '0%' AND state <> 'applied'"),
	'0', 'migrate_status shows the good set applied');

# A failing file fails the run, with the migration's error and context.
my $bad_run = first_run('bad');
like($bad_run, qr/^failed\|/, 'the job over a failing set failed in cron.job_run_details');
like($bad_run, qr/relation "bad_no_such_table" does not exist/,
	'its return_message holds the migration error');
like($bad_run, qr/migration "102_bad_broken.sql", line 3/,
	'its return_message names the migration file and line');
is(history('app', '1%'), '', 'no history row of the failed run');
is($node->safe_psql('app', q(SELECT count(*) FROM morgenmigrate.migration_errors WHERE filename LIKE '1%')),
	'0', 'an atomic run records no failure row');
is($node->safe_psql('app', q(SELECT to_regclass('public.bad_accounts') IS NULL)),
	't', 'the table of the failed run\'s first file does not exist');
is($node->safe_psql('app',
		"SELECT string_agg(filename || ':' || state, ',' ORDER BY filename) FROM morgenmigrate.migrate_status('$bad') WHERE filename LIKE '1%'"),
	'101_bad_accounts.sql:pending,102_bad_broken.sql:pending',
	'migrate_status shows the failing set still pending');

# atomic => false: the run returns normally (the job succeeds), the file
# before the failure stays applied and the failure is recorded.
is(first_run('partial'), 'succeeded|2 rows',
	'a non-atomic job with a failing file ends as succeeded in pg_cron');
is( $node->safe_psql('app',
		"SELECT string_agg(filename || ':' || state, ',' ORDER BY filename) FROM morgenmigrate.migrate_status('$partial') WHERE filename LIKE '2%'"),
	'201_part_a.sql:applied,202_part_b.sql:failed,203_part_c.sql:pending',
	'migrate_status shows the partial progress and the failure');
like(
	$node->safe_psql('app',
		"SELECT error FROM morgenmigrate.migrate_status('$partial') WHERE filename = '202_part_b.sql'"),
	qr/part_no_such_table/,
	'migrate_status says why the file failed');
is( $node->safe_psql('app',
		q(SELECT sqlstate || '|' || line || '|' || message FROM morgenmigrate.migration_errors WHERE filename = '202_part_b.sql')),
	'42P01|2|relation "part_no_such_table" does not exist',
	'migration_errors holds the failure with its SQLSTATE and line');
is( $node->safe_psql('app',
		q(SELECT to_regclass('public.part_a') IS NOT NULL, to_regclass('public.part_b') IS NULL, to_regclass('public.part_c') IS NULL)),
	't|t|t',
	'only the files before the failure changed the schema');
my ($rc, $out, $err) = $node->psql('app', "SELECT morgenmigrate.migrate_check('$partial')");
isnt($rc, 0, 'migrate_check fails after the partial run');
like($err, qr/Failed: 202_part_b\.sql\..*Pending: 203_part_c\.sql|Pending: 203_part_c\.sql\..*Failed: 202_part_b\.sql/s,
	'migrate_check names the failed and the pending file');

# CALL migrate_run() as the whole command of a job.
like(first_run('run'), qr/^succeeded\|/, 'the CALL migrate_run job succeeded');
is(history('app', '3%'), '301_run_a.sql:applied,302_run_b.sql:applied',
	'the CALL migrate_run job applied its set');
is($node->safe_psql('app',
		q(SELECT count(*) FROM information_schema.columns WHERE table_name = 'run_a' AND column_name = 'note')),
	'1', 'the CALL migrate_run job ran both files');

# A CALL with another statement in the same command runs in a transaction
# block, where migrate_run() refuses.
my $multi_run = first_run('run_multi');
like($multi_run, qr/^failed\|/, 'a job of CALL migrate_run(); SELECT 1 fails');
like($multi_run, qr/migrate_run\(\) cannot run inside a transaction block/,
	'with migrate_run\'s transaction block error');
is(history('app', '4%'), '', 'and applies nothing');
is($node->safe_psql('app', q(SELECT to_regclass('public.multi_a') IS NULL)),
	't', 'its table does not exist');

# A failing file under CALL migrate_run(): the job fails, the files before
# it stay committed, and the failure is recorded.
my $rf_run = first_run('run_fail');
like($rf_run, qr/^failed\|/, 'a CALL migrate_run job over a failing set fails');
like($rf_run, qr/relation "rf_no_such_table" does not exist/,
	'its return_message holds the migration error');
like($rf_run, qr/migration "602_rf_b.sql", line 2/,
	'its return_message names the migration file and line');
is( $node->safe_psql('app',
		"SELECT string_agg(filename || ':' || state, ',' ORDER BY filename) FROM morgenmigrate.migrate_status('$run_fail') WHERE filename LIKE '6%'"),
	'601_rf_a.sql:applied,602_rf_b.sql:failed,603_rf_c.sql:pending',
	'the file before the failure stays applied and the failure is recorded');
is( $node->safe_psql('app',
		q(SELECT to_regclass('public.rf_a') IS NOT NULL, to_regclass('public.rf_b') IS NULL, to_regclass('public.rf_c') IS NULL)),
	't|t|t',
	'only the file before the failure changed the schema');

# cron.schedule_in_database() migrates another database.
like(first_run('tenant'), qr/^succeeded\|/, 'the schedule_in_database job succeeded');
is(history('tenant', '%'), '501_tenant_a.sql:applied',
	'it applied the set in the other database');
is(history('app', '5%'), '', 'and recorded nothing in the pg_cron database');

$node->stop;
done_testing();
