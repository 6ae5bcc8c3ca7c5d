# The copy-paste examples of docs/operations.md, run as they stand there:
# each is read from the guide (the block after "<!-- example: NAME -->"),
# its directory and backup path replaced with the test's own, and run with
# sh or psql against a real server.  Covers the shell deploy step and its
# exit codes, a transaction in psql, time limits, the Docker Compose and
# Kubernetes commands, readiness probes, the upgrade runbook with backup and
# restore, the monitoring queries (pg_stat_activity during a blocked run)
# and the adoption of a database migrated by the raw-SQL runner.
use strict;
use warnings;

use File::Copy qw(copy);
use IPC::Run;
use JSON::PP qw(decode_json);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../perl";
use MorgenmigrateTest qw(write_set guide_example);

my $node = PostgreSQL::Test::Cluster->new('ops');
$node->init;
$node->start;
my $tmp = PostgreSQL::Test::Utils::tempdir();

# A new database with the extension.
sub new_db
{
	my ($db) = @_;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, 'CREATE EXTENSION morgenmigrate');
	return $db;
}

# Runs a command as the guide's examples run: libpq variables name the
# test server and the database.  Returns (exit code, stdout, stderr).
sub run_cmd
{
	my ($db, $cmd, $stdin, %env) = @_;
	local %ENV = %ENV;
	delete $ENV{$_} for qw(PGOPTIONS PGSERVICE PGUSER PGDATABASE);
	$ENV{PGHOST} = $node->host;
	$ENV{PGPORT} = $node->port;
	$ENV{PGDATABASE} = $db;
	@ENV{ keys %env } = values %env;
	my ($out, $err) = ('', '');
	IPC::Run::run($cmd, '<', \($stdin // ''), '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

# Runs a shell example with the guide's paths replaced.
sub run_sh
{
	my ($db, $script, $dir, %env) = @_;
	$script =~ s{/srv/app/migrations}{$dir}g;
	$script =~ s{/var/backups}{$tmp}g;
	return run_cmd($db, [ 'sh', '-c', $script ], undef, %env);
}

# The argv of a YAML example's "command: [...]" line (a JSON array).
sub yaml_command
{
	my ($yaml, $dir) = @_;
	$yaml =~ /^\s*command: (\[.*\])\s*$/m or die "no command line in:\n$yaml";
	my $argv = decode_json($1);
	s{/srv/app/migrations}{$dir}g for @$argv;
	return $argv;
}

sub history
{
	my ($db) = @_;
	return $node->safe_psql($db,
		q(SELECT string_agg(filename, ',' ORDER BY filename) FROM morgenmigrate.schema_migrations));
}

my %good_files = (
	'001_teams.sql' => "CREATE TABLE teams (id int PRIMARY KEY, name text NOT NULL);\n",
	'002_members.sql' =>
	  "CREATE TABLE members (id int PRIMARY KEY, team_id int REFERENCES teams);\n",
	'003_seed.sql' => "INSERT INTO teams VALUES (1, 'core');\nINSERT INTO members VALUES (1, 1);\n");
my $good = write_set("$tmp/good", %good_files);
my $bad = write_set(
	"$tmp/bad",
	'001_teams.sql' => $good_files{'001_teams.sql'},
	'002_broken.sql' => "-- a typo\nINSERT INTO teamz VALUES (2, 'web');\n");

# The first psql session of the guide: rehearse, apply, status.
{
	my $db = new_db('basics');
	my $sql = guide_example('psql-basics') =~ s{/srv/app/migrations}{$good}gr;
	my ($rc, $out, $err) = run_cmd($db, [ 'psql', '-X', '-tA' ], $sql);
	is($rc, 0, 'psql-basics: runs');
	like($out, qr/^003_seed\.sql\|rehearsed\|.*^003_seed\.sql\|applied\|.*^003_seed\.sql\|applied\|/ms,
		'psql-basics: rehearses, applies, and shows the status');
	is(history($db), '001_teams.sql,002_members.sql,003_seed.sql',
		'psql-basics: every file is applied');
}

# The manual revert of the raw-SQL seed: inverse SQL, then forget.
{
	my $dir = write_set("$tmp/revert",
		'015_mcp_api_keys.sql' => "CREATE TABLE mcp_api_keys (id int PRIMARY KEY, key_hash text);\n");
	my $db = new_db('revert');
	$node->safe_psql($db, "SELECT morgenmigrate.migrate_apply('$dir')");
	my ($rc, $out, $err) = run_cmd($db, [ 'psql', '-X', '-tA', '-v', 'ON_ERROR_STOP=1' ],
		guide_example('manual-revert'));
	is($rc, 0, 'manual-revert: runs');
	is($node->safe_psql($db,
			"SELECT to_regclass('public.mcp_api_keys') IS NULL, (SELECT state FROM morgenmigrate.migrate_status('$dir'))"),
		't|pending', 'manual-revert: the table is gone and the file is pending again');
	is($node->safe_psql($db, "SELECT string_agg(filename, ',') FROM morgenmigrate.migrate_apply('$dir')"),
		'015_mcp_api_keys.sql', 'manual-revert: and applies again');
}

# A transaction in psql: apply, look, roll back.
{
	my $db = new_db('txn');
	my $sql = guide_example('psql-transaction') =~ s{/srv/app/migrations}{$good}gr;
	my ($rc, $out, $err) =
	  run_cmd($db, [ 'psql', '-X', '-v', 'ON_ERROR_STOP=1' ], $sql);
	is($rc, 0, 'psql-transaction: runs');
	like($out, qr/003_seed\.sql\s+\| applied.*\n\s+1\n/s,
		'psql-transaction: the migrations ran and their result was visible');
	is(history($db), '', 'psql-transaction: after ROLLBACK nothing is recorded');
	is($node->safe_psql($db, q(SELECT to_regclass('public.teams') IS NULL)),
		't', 'psql-transaction: after ROLLBACK nothing is applied');
}

# The shell deploy step: exit 0 on a good set, 1 with the CONTEXT line on
# a failing one, with nothing applied.
{
	my $script = guide_example('deploy-step');
	my $db = new_db('deploy_good');
	my ($rc, $out, $err) = run_sh($db, $script, $good);
	is($rc, 0, 'deploy-step: exits 0 on a good set');
	is(history($db), '001_teams.sql,002_members.sql,003_seed.sql',
		'deploy-step: every file is applied');

	$db = new_db('deploy_bad');
	($rc, $out, $err) = run_sh($db, $script, $bad);
	is($rc, 1, 'deploy-step: exits 1 on a failing set');
	like($err,
		qr/^ERROR:  relation "teamz" does not exist\n(?:LINE .*\n.*\n)?CONTEXT:  migration "002_broken\.sql", line 2$/m,
		'deploy-step: stderr has the error and its CONTEXT line');
	is(history($db), '', 'deploy-step: nothing is recorded');
	is($node->safe_psql($db, q(SELECT to_regclass('public.teams') IS NULL)),
		't', 'deploy-step: nothing is applied');

	($rc, $out, $err) = run_cmd($db,
		[ 'psql', '-X', '-h', "$tmp/no-server-here", '-v', 'ON_ERROR_STOP=1', '-c', 'SELECT 1' ]);
	is($rc, 2, 'psql -c exits 2 when it cannot connect');
}

# The same, with the directory passed as a psql variable on stdin.
{
	my $script = guide_example('deploy-step-stdin');
	my $db = new_db('stdin_good');
	my ($rc, $out, $err) = run_sh($db, $script, $good, MIGRATIONS_DIR => $good);
	is($rc, 0, 'deploy-step-stdin: exits 0 on a good set');
	is(history($db), '001_teams.sql,002_members.sql,003_seed.sql',
		'deploy-step-stdin: every file is applied');
	$db = new_db('stdin_bad');
	($rc, $out, $err) = run_sh($db, $script, $bad, MIGRATIONS_DIR => $bad);
	is($rc, 3, 'deploy-step-stdin: exits 3 on a failing set');
	like($err, qr/CONTEXT:  migration "002_broken\.sql", line 2/,
		'deploy-step-stdin: with the CONTEXT line');
	is(history($db), '', 'deploy-step-stdin: nothing is recorded');
}

# A time limit for the whole call through PGOPTIONS.
{
	my $slow = write_set(
		"$tmp/slow",
		'001_teams.sql' => $good_files{'001_teams.sql'},
		'002_slow.sql' => "SELECT pg_sleep(30);\n");
	my $script = guide_example('deploy-timeout');
	like($script, qr/statement_timeout=5min/, 'deploy-timeout: sets statement_timeout');
	$script =~ s/statement_timeout=5min/statement_timeout=300ms/;
	my $db = new_db('timeout');
	my ($rc, $out, $err) = run_sh($db, $script, $slow);
	is($rc, 1, 'deploy-timeout: exits 1 when the limit is reached');
	like($err, qr/canceling statement due to statement timeout/,
		'deploy-timeout: the statement was canceled');
	is(history($db), '', 'deploy-timeout: nothing is recorded');
	is($node->safe_psql($db, q(SELECT to_regclass('public.teams') IS NULL)),
		't', 'deploy-timeout: nothing is applied');
}

# The Docker Compose migrate service's command.
{
	my $argv = yaml_command(guide_example('compose'), $good);
	is($argv->[0], 'psql', 'compose: the migrate service runs psql');
	my $db = new_db('compose');
	my ($rc, $out, $err) = run_cmd($db, $argv);
	is($rc, 0, 'compose: the migrate command exits 0');
	is(history($db), '001_teams.sql,002_members.sql,003_seed.sql',
		'compose: it applied the set');
}

# The Kubernetes init container: fails until its release's newest file is
# on the server, then applies, then has nothing to do.
{
	my $yaml = guide_example('init-container');
	$yaml =~ /name: MIGRATIONS_TARGET\n\s*value: "([^"]+)"/
	  or die 'init-container: no MIGRATIONS_TARGET value';
	my $target = $1;
	my $demo = "$tmp/k8s";
	mkdir $demo or die "mkdir $demo: $!";
	my @demo = sort glob('migrations/demo/*.sql');
	ok((grep { m{/\Q$target\E\.sql$} } @demo),
		"init-container: the target $target is a file of migrations/demo");
	copy($_, $demo) or die "copy $_: $!" for grep { !m{/\Q$target\E(?:\.down)?\.sql$} } @demo;
	# Kubernetes expands $(VAR) in command from the container's env.
	my $argv = [ map { s/\$\(MIGRATIONS_TARGET\)/$target/gr } @{ yaml_command($yaml, $demo) } ];
	my $db = new_db('k8s');
	my ($rc, $out, $err) = run_cmd($db, $argv);
	isnt($rc, 0, 'init-container: fails while the release\'s newest file is not on the server');
	like($err, qr/migration target "\Q$target\E" matches no migration file/,
		'init-container: saying that the target is missing');
	is(history($db), '', 'init-container: and applies nothing');

	copy("migrations/demo/$target.sql", $demo) or die "copy: $!";
	($rc, $out, $err) = run_cmd($db, $argv);
	is($rc, 0, 'init-container: exits 0 once the file has arrived');
	is( $node->safe_psql($db, 'SELECT count(*) FROM morgenmigrate.schema_migrations'),
		scalar(grep { !/\.down\.sql$/ } @demo),
		'init-container: the whole demo set is applied');
	($rc, $out, $err) = run_cmd($db, $argv);
	is($rc, 0, 'init-container: a second pod exits 0');
	unlike($out, qr/applied/, 'init-container: and applies nothing');

	# The per-release readiness check.
	my $check = guide_example('readiness-release');
	like($check, qr/\Q$target\E\.sql/, 'readiness-release: looks for the release\'s newest file');
	($rc, $out, $err) = run_sh($db, $check, $demo);
	is($rc, 0, 'readiness-release: exits 0 when the release\'s file is applied');
	($rc, $out, $err) = run_sh(new_db('k8s_empty'), $check, $demo);
	is($rc, 1, 'readiness-release: exits 1 when it is not');
}

# A ConfigMap volume as the kubelet lays it out: the files live in a
# timestamped directory, "..data" links to it, and each key is a link
# through "..data".  An update writes a new timestamped directory and swaps
# "..data" atomically.
{
	my $mount = "$tmp/configmap";
	mkdir $mount or die "mkdir $mount: $!";
	my $publish = sub {
		my ($stamp, %files) = @_;
		write_set("$mount/$stamp", %files);
		symlink($stamp, "$mount/..data_tmp") or die "symlink: $!";
		rename("$mount/..data_tmp", "$mount/..data") or die "rename: $!";
		for my $name (keys %files)
		{
			symlink("..data/$name", "$mount/$name") unless -l "$mount/$name";
		}
	};
	$publish->('..2024_05_01_10_00_00.000000001',
		map { $_ => $good_files{$_} } qw(001_teams.sql 002_members.sql));
	my $db = new_db('configmap');
	$node->safe_psql($db, "ALTER DATABASE $db SET morgenmigrate.allowed_directories = '$mount'");
	my ($rc, $out, $err) = run_cmd($db, yaml_command(guide_example('compose'), $mount));
	is($rc, 0, 'configmap: the files of a ConfigMap volume apply');
	is(history($db), '001_teams.sql,002_members.sql', 'configmap: both files are recorded');

	$publish->('..2024_05_02_10_00_00.000000002', %good_files);
	($rc, $out, $err) = run_cmd($db, yaml_command(guide_example('compose'), $mount));
	is($rc, 0, 'configmap: after an update of the ConfigMap the new file applies');
	unlike($err, qr/WARNING/, 'configmap: without a warning');
	is(history($db), '001_teams.sql,002_members.sql,003_seed.sql',
		'configmap: and only the new file ran');
	is( $node->safe_psql($db,
			"SELECT string_agg(state, ',') FROM morgenmigrate.migrate_status('$mount')"),
		'applied,applied,applied', 'configmap: the old files are unchanged');
}

# The readiness probe with migrate_check.
{
	my $probe = write_set("$tmp/probe", %good_files);
	my $argv = yaml_command(guide_example('readiness-probe'), $probe);
	my $db = new_db('probe');
	my ($rc, $out, $err) = run_cmd($db, $argv);
	isnt($rc, 0, 'readiness-probe: fails while migrations are pending');
	like($err, qr/Pending: 001_teams\.sql, 002_members\.sql, 003_seed\.sql\./,
		'readiness-probe: naming them');
	$node->safe_psql($db, "SELECT morgenmigrate.migrate_apply('$probe')");
	($rc, $out, $err) = run_cmd($db, $argv);
	is($rc, 0, 'readiness-probe: passes when everything is applied');
	write_set("$tmp/probe_new", '004_next.sql' => "CREATE TABLE next (id int);\n");
	copy("$tmp/probe_new/004_next.sql", $probe) or die "copy: $!";
	($rc, $out, $err) = run_cmd($db, $argv);
	isnt($rc, 0, 'readiness-probe: fails again when a new file arrives');
}

# The upgrade runbook on database "app": back up, ship, apply and verify,
# then roll back by restoring the backup into a recreated database.
{
	my $dir = write_set("$tmp/release", %good_files);
	new_db('app');
	$node->safe_psql('app', "SELECT morgenmigrate.migrate_apply('$dir')");
	my $before = $node->safe_psql('app',
		'SELECT * FROM morgenmigrate.schema_migrations ORDER BY filename');

	my ($rc, $out, $err) = run_sh('app', guide_example('upgrade-backup'), $dir);
	is($rc, 0, 'upgrade-backup: pg_dump exits 0');
	ok(-s "$tmp/app-before-upgrade.dump", 'upgrade-backup: the dump exists');

	# ship the new release's file
	write_set("$tmp/release_new",
		'004_webhooks.sql' => "CREATE TABLE webhooks (id int PRIMARY KEY, url text);\n");
	copy("$tmp/release_new/004_webhooks.sql", $dir) or die "copy: $!";

	($rc, $out, $err) = run_sh('app', guide_example('upgrade-apply'), $dir);
	is($rc, 0, 'upgrade-apply: apply and migrate_check exit 0');
	like($out, qr/004_webhooks\.sql \| applied/, 'upgrade-apply: the new file applied');

	($rc, $out, $err) = run_sh('postgres', guide_example('restore-backup'), $dir);
	is($rc, 0, 'restore-backup: exits 0');
	is( $node->safe_psql('app',
			'SELECT * FROM morgenmigrate.schema_migrations ORDER BY filename'),
		$before, 'restore-backup: the history is the backup\'s, row for row');
	is( $node->safe_psql('app',
			"SELECT state FROM morgenmigrate.migrate_status('$dir') WHERE filename = '004_webhooks.sql'"),
		'pending', 'restore-backup: the release\'s file is pending again');
	is($node->safe_psql('app', q(SELECT to_regclass('public.webhooks') IS NULL)),
		't', 'restore-backup: and its table is gone');
}

# The status query after a non-atomic run that failed part way.
{
	my $dir = write_set(
		"$tmp/status",
		'001_teams.sql' => $good_files{'001_teams.sql'},
		'002_broken.sql' => "-- a typo\nINSERT INTO teamz VALUES (2, 'web');\n",
		'003_later.sql' => "CREATE TABLE later (id int);\n");
	my $db = new_db('status');
	$node->safe_psql($db,
		"SELECT * FROM morgenmigrate.migrate_apply('$dir', atomic => false)");
	my $sql = guide_example('status-query') =~ s{/srv/app/migrations}{$dir}gr;
	my ($rc, $out, $err) = run_cmd($db, [ 'psql', '-X', '-tA', '-v', 'ON_ERROR_STOP=1' ], $sql);
	is($out,
		qq(002_broken.sql|failed||42P01: relation "teamz" does not exist (line 2)\n003_later.sql|pending||\n),
		'status-query: lists the failed and the pending file, with the error');
	# fix the file: it was never applied, so editing it is fine
	write_set("$tmp/status_fixed", '002_broken.sql' => "INSERT INTO teams VALUES (2, 'web');\n");
	copy("$tmp/status_fixed/002_broken.sql", $dir) or die "copy: $!";
	$node->safe_psql($db, "SELECT morgenmigrate.migrate_apply('$dir')");
	($rc, $out, $err) = run_cmd($db, [ 'psql', '-X', '-tA', '-v', 'ON_ERROR_STOP=1' ], $sql);
	is($out, '', 'status-query: no rows once everything is applied');
	is($node->safe_psql($db, 'SELECT count(*) FROM morgenmigrate.migration_errors'),
		'0', 'the recorded failure is gone once the file applied');
}

# Watching a run blocked on a lock, from another session.
{
	my $dir = write_set(
		"$tmp/watch",
		'001_audit.sql' => "CREATE TABLE audit (id int);\n",
		'002_busy_flag.sql' => "ALTER TABLE busy ADD COLUMN flag boolean;\n",
		'003_done.sql' => "CREATE TABLE done (id int);\n");
	my $db = new_db('watch');
	$node->safe_psql($db, 'CREATE TABLE busy (id int)');

	my $holder = $node->background_psql($db);
	$holder->query_safe('BEGIN');
	$holder->query_safe('SELECT * FROM busy');
	my $holder_pid = $holder->query_safe('SELECT pg_backend_pid()');

	# without the default lock timeout, so that it waits on the lock
	my $migrator = $node->background_psql($db);
	$migrator->query_safe('SET morgenmigrate.lock_timeout = 0');
	$migrator->query_until(qr/started/,
		"\\echo started\nSELECT count(*) FROM morgenmigrate.migrate_apply('$dir');\n");

	my $watch = guide_example('watch-activity') =~ s/;\s*$//r;
	ok( $node->poll_query_until($db,
			"SELECT count(*) FROM ($watch) w WHERE wait_event_type = 'Lock'", '1'),
		'watch-activity: the blocked migration shows up');
	my $row = $node->safe_psql($db,
		"SELECT query, wait_event, blocked_by FROM ($watch) w");
	is($row, qq(morgenmigrate: running "002_busy_flag.sql" (2 of 3)|relation|{$holder_pid}),
		'watch-activity: it names the file, k of n, the lock and the blocking session');

	$holder->query_safe('COMMIT');
	$holder->quit;
	is($migrator->query_safe(''), '3', 'the migration finishes once the lock is free');
	$migrator->quit;
	is($node->safe_psql($db, "SELECT count(*) FROM ($watch) w"), '0',
		'watch-activity: nothing is running afterwards');
}

# Adopting a database that the raw-SQL runner migrated.
{
	my $dir = write_set("$tmp/adopt", %good_files);
	my $db = new_db('legacy');
	$node->safe_psql(
		$db, qq{
CREATE TABLE public.schema_migrations (filename text PRIMARY KEY, applied_at timestamptz DEFAULT now());
$good_files{'001_teams.sql'}
$good_files{'002_members.sql'}
INSERT INTO public.schema_migrations (filename) VALUES ('001_teams.sql'), ('002_members.sql');
});
	my $sql = guide_example('adopt-raw-runner') =~ s{/srv/app/migrations}{$dir}gr;
	my ($rc, $out, $err) = run_cmd($db, [ 'psql', '-X', '-tA', '-v', 'ON_ERROR_STOP=1' ], $sql);
	is($rc, 0, 'adopt-raw-runner: runs');
	is($out, "2\n", 'adopt-raw-runner: no skipped files, two files recorded');
	is( $node->safe_psql($db,
			q(SELECT string_agg(filename || ':' || kind, ',' ORDER BY filename) FROM morgenmigrate.schema_migrations)),
		'001_teams.sql:baseline,002_members.sql:baseline',
		'adopt-raw-runner: the old runner\'s files are recorded as baseline');
	is( $node->safe_psql($db,
			"SELECT string_agg(filename, ',') FROM morgenmigrate.migrate_apply('$dir')"),
		'003_seed.sql', 'adopt-raw-runner: then only the newer file runs');

	# The check finds a file the old runner skipped.
	my $db2 = new_db('legacy_gap');
	$node->safe_psql(
		$db2, qq{
CREATE TABLE public.schema_migrations (filename text PRIMARY KEY, applied_at timestamptz DEFAULT now());
INSERT INTO public.schema_migrations (filename) VALUES ('001_teams.sql'), ('003_seed.sql');
});
	my $check = ($sql =~ /^(.*?;)/s)[0];
	($rc, $out, $err) = run_cmd($db2, [ 'psql', '-X', '-tA', '-v', 'ON_ERROR_STOP=1' ], $check);
	is($out, "002_members.sql\n", 'adopt-raw-runner: the check names a skipped file');
}

$node->stop;
done_testing();
