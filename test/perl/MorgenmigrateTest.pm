# Helpers shared by the TAP tests of morgenmigrate (test/t/*.pl):
#
#   use FindBin;
#   use lib "$FindBin::Bin/../perl";
#   use MorgenmigrateTest qw(write_set guide_example readme_example superuser
#                            cron_node wait_for_cron_runs cron_first_run
#                            start_background finish_background
#                            runner_missing runner_command run_command
#                            dump_schema write_old_file proof_way);
package MorgenmigrateTest;

use strict;
use warnings;

use Digest::SHA;
use Exporter 'import';
use File::Basename ();
use FindBin;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils qw(slurp_file);
use Time::HiRes qw(usleep);

our @EXPORT_OK =
  qw(write_set guide_example readme_example superuser cron_node
  wait_for_cron_runs cron_first_run start_background finish_background
  runner_missing runner_command run_command dump_schema write_old_file
  proof_way proof_call proof_both);

# The superuser of a test's cluster: initdb names it after the OS user
# running the test (postgres in scripts/test.sh, a developer's own name
# elsewhere), and the cluster's psql connects as that role.
sub superuser
{
	return scalar getpwuid($<);
}

# Writes a migration set: creates directory $dir holding the given files
# (name => text) and returns $dir.
sub write_set
{
	my ($dir, %files) = @_;
	mkdir $dir or die "mkdir $dir: $!";
	while (my ($name, $text) = each %files)
	{
		open my $fh, '>', "$dir/$name" or die "open $dir/$name: $!";
		print $fh $text;
		close $fh;
	}
	return $dir;
}

# Writes a file with its modification time an hour back; its change time
# is now (no program can set it back), so a fingerprint or a directory's
# proof of it needs it 2 seconds old.
sub write_old_file
{
	my ($path, $text) = @_;
	my $old = time() - 3600;
	open my $fh, '>', $path or die "open $path: $!";
	print $fh $text;
	close $fh;
	utime $old, $old, $path or die "utime $path: $!";
	return;
}

# The way a migrate_apply or migrate_run went, by the DEBUG1 messages it
# gave (client_min_messages = debug1): 'proof' (it answered from its
# directory's proof), 'kept' (the long way, keeping a proof), or 'long'.
sub proof_way
{
	my ($messages) = @_;
	return $messages =~ /are as when a call last found nothing to do/ ? 'proof'
	  : $messages =~ /kept the proof/ ? 'kept' : 'long';
}

# A new session's call $sql in database $db of $node, in a transaction
# rolled back after it, $pre run first in it, with client_min_messages =
# debug1: the way it went (proof_way) and its answer: its rows, then its
# WARNING, NOTICE, ERROR and DETAIL lines.
sub proof_call
{
	my ($node, $db, $pre, $sql) = @_;
	my ($rc, $out, $err) = $node->psql($db,
		"BEGIN;\n$pre\nSET LOCAL client_min_messages = debug1;\n$sql;\nROLLBACK;\n",
		on_error_stop => 0);
	my @said = grep { /^(?:psql:[^ ]* )?(WARNING|NOTICE|ERROR|DETAIL):/ } split /\n/, $err;
	s/^psql:[^ ]* // for @said;
	return (proof_way($err), join("\n", "rows:", $out, @said));
}

# proof_call as the directory's proof stands, and with it deleted first
# (the long way): (the first's way, its answer, the long way's answer).
sub proof_both
{
	my ($node, $db, $pre, $sql) = @_;
	my ($way, $with) = proof_call($node, $db, $pre, $sql);
	my (undef, $without) = proof_call($node, $db,
		"$pre\nDELETE FROM morgenmigrate.file_fingerprints WHERE filename = '';", $sql);
	return ($way, $with, $without);
}

# The text of example NAME of docs/operations.md (or of FILE, such as
# README.md): the fenced block after the line "<!-- example: NAME -->",
# with the block's indentation removed, so that a test runs the example as
# it stands there.
my %guides;
sub guide_example
{
	my ($name, $file) = @_;
	$file //= 'docs/operations.md';
	$guides{$file} //= slurp_file($file);
	$guides{$file} =~ /^[ \t]*<!-- example: \Q$name\E -->\n(?:[ \t]*\n)*([ \t]*)```[a-z]*\n(.*?)^[ \t]*```[ \t]*$/ms
	  or die "$file has no example \"$name\"";
	my ($indent, $text) = ($1, $2);
	$text =~ s/^\Q$indent\E//mg;
	return $text;
}

# Example NAME of README.md as a TAP test runs it.  The README runs its
# lines as root on the database server, psql and createdb as the postgres
# OS user ("runuser -u postgres -- psql"), in the database "app"; the test
# runs them as the OS user running it, who owns the test's cluster, in
# database DB (if given), with each path the README names (a key of
# %paths) replaced by the test's.  Dies if a psql or createdb line does not
# say which OS user runs it.
sub readme_example
{
	my ($name, $db, %paths) = @_;
	my $text = guide_example($name, "$FindBin::Bin/../../README.md");
	for my $line (split /\n/, $text)
	{
		die "README.md, example \"$name\": no OS user for \"$line\""
		  if $line =~ /\b(?:psql|createdb)\b/
		  && $line !~ /\brunuser -u postgres -- (?:psql|createdb)\b/;
	}
	$text =~ s/\brunuser -u postgres -- //g;
	for my $path (sort { length($b) <=> length($a) } keys %paths)
	{
		$text =~ s/\Q$path\E/$paths{$path}/g;
	}
	$text =~ s/(\s-d |\bcreatedb )app\b/$1$db/g if defined $db;
	return $text;
}

# A started cluster NAME with pg_cron preloaded and scheduling in database
# "app", which has pg_cron and morgenmigrate; database "tenant" has
# morgenmigrate too (for cron.schedule_in_database).
sub cron_node
{
	my ($name) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	# pg_cron connects to the server through libpq like any client: point it
	# at the test cluster's unix socket directory.
	$node->append_conf(
		'postgresql.conf', qq(
shared_preload_libraries = 'pg_cron'
cron.database_name = 'app'
cron.host = '@{[ $node->host ]}'
));
	$node->start;
	$node->safe_psql('postgres', 'CREATE DATABASE app');
	$node->safe_psql('postgres', 'CREATE DATABASE tenant');
	$node->safe_psql('app', 'CREATE EXTENSION pg_cron');
	$node->safe_psql('app', 'CREATE EXTENSION morgenmigrate');
	$node->safe_psql('tenant', 'CREATE EXTENSION morgenmigrate');
	return $node;
}

# Waits until NJOBS pg_cron jobs have each finished a run (pg_cron 1.4
# schedules by the minute: at most ~150 s); returns how many have.
sub wait_for_cron_runs
{
	my ($node, $njobs) = @_;
	my $deadline = time() + 150;
	my $finished = 0;
	while (time() < $deadline)
	{
		$finished = $node->safe_psql('app',
			q(SELECT count(DISTINCT jobid) FROM cron.job_run_details
			  WHERE status IN ('succeeded', 'failed')));
		last if $finished == $njobs;
		usleep(1_000_000);
	}
	return $finished;
}

# The first finished run of pg_cron job JOBID: "status|return_message".
sub cron_first_run
{
	my ($node, $jobid) = @_;
	return $node->safe_psql('app',
		qq(SELECT status || '|' || coalesce(return_message, '')
		   FROM cron.job_run_details
		   WHERE jobid = $jobid AND status IN ('succeeded', 'failed')
		   ORDER BY runid LIMIT 1));
}

# Starts $sql in a new session of database $db, after the statements
# $setup (if any), without waiting for it to finish; returns the session
# and its backend's pid.
sub start_background
{
	my ($node, $db, $sql, $setup) = @_;
	my $s = $node->background_psql($db, on_error_stop => 0);
	$s->query_safe($setup) if defined $setup;
	my $pid = $s->query_safe('SELECT pg_backend_pid()');
	$s->{stdout} = '';
	$s->{stderr} = '';
	$s->{stdin} .= "$sql;\n\\echo background_done\n";
	$s->{run}->pump_nb;
	return ($s, $pid);
}

# Waits until the statement start_background sent has finished; returns
# what it wrote to stderr, and leaves the session ready for more queries.
sub finish_background
{
	my ($s) = @_;
	$s->{run}->pump until $s->{stdout} =~ /background_done/;
	my $err = $s->{stderr};
	$s->{stdout} = '';
	$s->{stderr} = '';
	return $err;
}

# The real runners the tests migrate with: dbmate, node-pg-migrate and
# postgrator-cli from npm (scripts/test.sh installs them into
# /var/cache/morgenmigrate/npm-HASH, HASH the start of the SHA-256 of
# test/adopt/package-lock.json, as scripts/lib.sh names it; MM_NPM_RUNNERS
# elsewhere), sql-migrate and Sqitch from Debian.
my $npm_lock = File::Basename::dirname(__FILE__) . '/../adopt/package-lock.json';
my $npm_bin = ($ENV{MM_NPM_RUNNERS}
	  // '/var/cache/morgenmigrate/npm-' . substr(Digest::SHA->new(256)->addfile($npm_lock)->hexdigest, 0, 16))
  . '/node_modules/.bin';
# node-pg-migrate 9 needs Node.js 20, which Debian 12 lacks (it has 18):
# test/adopt/package.json installs Node 20 from npm beside the runners,
# and the runners' "#!/usr/bin/env node" finds it first on the PATH.
$ENV{PATH} = "$npm_bin:$ENV{PATH}" if -x "$npm_bin/node";
my %runner_program = (
	dbmate => "$npm_bin/dbmate",
	'node-pg-migrate' => "$npm_bin/node-pg-migrate",
	postgrator => "$npm_bin/postgrator",
	'sql-migrate' => '/usr/bin/sql-migrate',
	sqitch => '/usr/bin/sqitch');

# Why RUNNER cannot run here (undef when it can).
sub runner_missing
{
	my ($runner) = @_;
	my $program = $runner_program{$runner} or die "unknown runner $runner";
	return -x $program ? undef : "$program is missing: scripts/test.sh installs it";
}

# The command that makes RUNNER migrate database DB of NODE with the
# migrations of directory DIR, and the environment it needs: ACTION 'up'
# applies everything, 'down' rolls back the last migration (for
# postgrator, whose only command is a target version, ACTION is that
# version, or 'max').  sql-migrate reads its settings from a file: it is
# written into CONFIG_DIR, which must not be DIR.
sub runner_command
{
	my (%a) = @_;
	my ($runner, $node, $db, $dir, $action) = @a{qw(runner node db dir action)};
	my ($host, $port) = ($node->host, $node->port);
	my $program = $runner_program{$runner} or die "unknown runner $runner";
	if ($runner eq 'dbmate')
	{
		# a URL with the socket directory; no schema.sql dump
		return ([ $program, '--url', "postgres://" . superuser() . "\@:$port/$db?socket=$host&sslmode=disable",
				'--migrations-dir', $dir, '--no-dump-schema', $action eq 'down' ? 'rollback' : 'migrate' ]);
	}
	if ($runner eq 'node-pg-migrate')
	{
		return ([ $program, $action, '-m', $dir ],
			DATABASE_URL => "postgres://" . superuser() . "\@/$db?host=$host&port=$port");
	}
	if ($runner eq 'postgrator')
	{
		return ([ $program, $action eq 'up' ? 'max' : $action, '--host', $host, '--port', $port,
				'--database', $db, '--username', superuser(), '--no-config', '-m', "$dir/*" ]);
	}
	if ($runner eq 'sql-migrate')
	{
		my $config = "$a{config_dir}/dbconfig.yml";
		open my $fh, '>', $config or die "open $config: $!";
		print $fh "development:\n  dialect: postgres\n"
		  . "  datasource: host=$host port=$port user=" . superuser() . " dbname=$db sslmode=disable\n"
		  . "  dir: $dir\n";
		close $fh;
		return ([ $program, $action, "-config=$config" ]);
	}
	die "runner_command: $runner migrates otherwise";
}

# Runs CMD in directory CWD with the environment ENV added; returns
# whether it succeeded, its stdout and its stderr.
sub run_command
{
	my ($cwd, $cmd, %env) = @_;
	local %ENV = (%ENV, %env);
	my ($out, $err) = ('', '');
	my $ok = IPC::Run::run($cmd, '<', \undef, '>', \$out, '2>', \$err,
		init => sub { chdir $cwd or die "chdir $cwd: $!" });
	return ($ok, $out, $err);
}

# The schema of database DB of NODE as pg_dump --schema-only writes it,
# without its comments and without the tables (schema.table) and schemas
# in EXCLUDE.
sub dump_schema
{
	my ($node, $db, @exclude) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'pg_dump', '--schema-only', '--no-owner', '-h', $node->host, '-p', $node->port,
			'-U', superuser(), '-d', $db, map { (/\./ ? '--exclude-table' : '--exclude-schema', $_) } @exclude ],
		'>', \$out, '2>', \$err) or die "pg_dump $db: $err";
	# (pg_dump 15.14 and later fence the script with a random \restrict key)
	return join "\n", grep { !/^--/ && !/^\\(?:un)?restrict / && /\S/ } split /\n/, $out;
}

1;
