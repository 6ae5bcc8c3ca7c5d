# Every file the extension reads goes through the same checks as a
# migration file: a plan file beside the migrations (Sqitch's sqitch.plan,
# which migrate_adopt reads) that is a link out of
# morgenmigrate.allowed_directories is refused like any file outside them,
# and one that is a FIFO is refused at once instead of blocking the backend
# for good.  A directory outside the setting is refused before anything
# about it is looked up: whether it exists, is a directory or is a link,
# the error is the same and says nothing but that it is outside.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use POSIX qw(mkfifo);
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('file_reads');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION morgenmigrate');
# a Sqitch registry with nothing deployed: adoption reads the project name
# from sqitch.plan to find this directory's changes in it
$node->safe_psql('postgres', <<'SQL');
CREATE SCHEMA sqitch;
CREATE TABLE sqitch.changes (change_id text PRIMARY KEY, change text NOT NULL,
	project text NOT NULL, committed_at timestamptz NOT NULL);
SQL

my $base = PostgreSQL::Test::Utils::tempdir();
mkdir $_ or die "mkdir $_: $!"
  for "$base/allowed", "$base/allowed/linked", "$base/allowed/fifo",
  "$base/allowed/plain", "$base/outside", "$base/outside/app";
for my $d ('linked', 'fifo', 'plain')
{
	PostgreSQL::Test::Utils::append_to_file("$base/allowed/$d/001_create_$d.sql",
		"CREATE TABLE reads_$d (id int);\n");
}
PostgreSQL::Test::Utils::append_to_file("$base/outside/sqitch.plan",
	"%syntax-version=1.0.0\n%project=secret_outside\n");
PostgreSQL::Test::Utils::append_to_file("$base/allowed/plain/sqitch.plan",
	"%syntax-version=1.0.0\n%project=plain\n");
symlink("$base/outside/sqitch.plan", "$base/allowed/linked/sqitch.plan")
  or die "symlink: $!";
mkfifo("$base/allowed/fifo/sqitch.plan", 0600) or die "mkfifo: $!";
PostgreSQL::Test::Utils::append_to_file("$base/outside/a_file", "not a directory\n");
symlink("$base/outside/app", "$base/allowed/link_out") or die "symlink: $!";

my $setting = "SET morgenmigrate.allowed_directories = '$base/allowed';\n"
  . "\\set VERBOSITY verbose\n";

# Runs SQL in a new session, giving up (and failing) after 60 s: a backend
# blocked in open() would never answer.  Returns (exit code, stderr), or
# (undef, 'timed out').
sub run_sql
{
	my ($sql) = @_;
	my ($out, $err, $timed_out);
	my $rc = $node->psql('postgres', $sql, stdout => \$out, stderr => \$err,
		timeout => 60, timed_out => \$timed_out);
	return $timed_out ? (undef, 'timed out') : ($rc, $err);
}

# adoption reads the plan of a directory whose plan is a regular file
my ($rc, $err) = run_sql($setting
	  . "SELECT count(*) FROM morgenmigrate.migrate_adopt('$base/allowed/plain', 'sqitch', dry_run => true);\n");
is($rc, 0, 'a sqitch.plan that is a regular file in the directory is read') or diag($err);

($rc, $err) = run_sql($setting
	  . "SELECT count(*) FROM morgenmigrate.migrate_adopt('$base/allowed/linked', 'sqitch', dry_run => true);\n");
isnt($rc, 0, 'a sqitch.plan linked from outside the allowed directories is refused');
like($err,
	qr/ERROR:  42501: plan file "\Q$base\E\/allowed\/linked\/sqitch\.plan" is outside morgenmigrate\.allowed_directories/,
	'with the error of any file outside them');
unlike($err, qr/secret_outside|\Q$base\E\/outside/, 'and nothing of the file outside shows');

($rc, $err) = run_sql($setting
	  . "SELECT count(*) FROM morgenmigrate.migrate_adopt('$base/allowed/fifo', 'sqitch', dry_run => true);\n");
ok(defined $rc, 'a sqitch.plan that is a FIFO does not block the backend');
like($err, qr/ERROR:  42809: plan file "[^"]*\/fifo\/sqitch\.plan" is not a regular file/,
	'it is refused as not a regular file');

# nothing was recorded by any of them
is($node->safe_psql('postgres', 'SELECT count(*) FROM morgenmigrate.schema_migrations'),
	'0', 'the history is as it was');

# a directory outside the setting: the same error whatever it is
for my $case (
	[ "$base/outside/app", 'a directory' ],
	[ "$base/outside/missing", 'a path that does not exist' ],
	[ "$base/outside/a_file", 'a file' ],
	[ "$base/outside/missing/deeper", 'a path below one that does not exist' ],
	[ "$base/allowed/link_out", 'a link in the allowed directory to one outside' ],
	[ "$base/allowed/../outside/app", 'a path through ..' ])
{
	my ($path, $what) = @$case;
	($rc, $err) = run_sql($setting
		  . "SELECT * FROM morgenmigrate.migrate_status('$path');\n");
	my $canonical = $path =~ s{/allowed/\.\./}{/}r;
	like($err,
		qr/ERROR:  42501: migration directory "\Q$canonical\E" is outside morgenmigrate\.allowed_directories\nHINT:  /,
		"$what outside: refused as outside");
	unlike($err, qr/DETAIL|does not exist|not a directory|resolves/,
		"$what outside: nothing else is said of it");
}

# inside the setting, what is wrong with a directory is still said
($rc, $err) = run_sql($setting
	  . "SELECT * FROM morgenmigrate.migrate_status('$base/allowed/missing');\n");
like($err, qr/ERROR:  58P01: could not open migration directory "[^"]*\/allowed\/missing": No such file or directory/,
	'a missing directory inside the allowed one is said to be missing');

done_testing();
