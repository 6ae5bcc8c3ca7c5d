# Push from a directory only root can read: root runs morgenmigrate-push
# (as make install put it beside psql) on the test server of
# scripts/test.sh, which runs as the postgres OS user and cannot read the
# directory (mode 0700, owned by root), with
# morgenmigrate.allowed_directories unset, as a role that is no superuser
# and has no right to read the server's files, granted what README.md's
# "Migrating from the client" grants a deploy role.  The same sets are read
# from the server's disk in other databases: the demo set with
# migrate_apply, goose's directory (an index built concurrently) with
# migrate_run.  Both give the same history (names, checksums, kinds) and
# the same pg_dump --schema-only.
#
# scripts/test.sh runs it as root (suite "root"), with PGHOST and PGPORT
# naming its server, whose postgres role only the postgres OS user may use
# (peer authentication).
use strict;
use warnings;

use File::Temp qw(tempdir);
use IPC::Run;
use Test::More;
use FindBin;

plan skip_all => 'runs as root, against the server of scripts/test.sh' if $> != 0;

my $fixtures = "$FindBin::Bin/../../migrations";

# The SQL of README.md's example NAME, as it stands there.
sub readme_sql
{
	my ($name) = @_;
	open my $fh, '<', "$FindBin::Bin/../../README.md" or die "README.md: $!";
	my $readme = do { local $/; <$fh> };
	$readme =~ /^<!-- example: \Q$name\E -->\n```sql\n(.*?)^```$/ms
	  or die "README.md has no example \"$name\"";
	return $1;
}

# Runs CMD as the postgres OS user, from /; returns (ok, stdout, stderr).
sub as_postgres
{
	my (@cmd) = @_;
	my ($out, $err) = ('', '');
	my $ok = IPC::Run::run([ 'runuser', '-u', 'postgres', '--', @cmd ], '<', \undef,
		'>', \$out, '2>', \$err, init => sub { chdir '/' });
	return ($ok, $out, $err);
}

# Runs SQL as the postgres role in database DB; returns its output.
sub psql_postgres
{
	my ($db, $sql) = @_;
	my ($ok, $out, $err) = as_postgres('psql', '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1',
		'-d', $db, '-c', $sql);
	die "psql $db: $err" unless $ok;
	chomp $out;
	return $out;
}

# The schema of DB as pg_dump --schema-only writes it, without comments.
sub dump_schema
{
	my ($db) = @_;
	my ($ok, $out, $err) = as_postgres('pg_dump', '--schema-only', '--no-owner', '-d', $db);
	die "pg_dump $db: $err" unless $ok;
	return join "\n", grep { !/^--/ && !/^\\(?:un)?restrict / && /\S/ } split /\n/, $out;
}

# The history of DB, one line per row.
sub history
{
	my ($db) = @_;
	return psql_postgres($db,
		'SELECT filename, checksum, kind FROM morgenmigrate.schema_migrations ORDER BY filename');
}

# Runs the client as root (the role root, as peer authentication lets it)
# on DB with ARGS.
sub push_set
{
	my ($db, @args) = @_;
	my ($out, $err) = ('', '');
	local %ENV = %ENV;
	delete $ENV{PGUSER};
	IPC::Run::run([ 'morgenmigrate-push', '-d', $db, @args ], '<', \undef, '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

# a deploy role of root's name, no superuser, no pg_read_server_files
psql_postgres('postgres', 'DROP ROLE IF EXISTS root');
psql_postgres('postgres', 'CREATE ROLE root LOGIN');
is(psql_postgres('postgres',
		q(SELECT rolsuper OR pg_has_role('root', 'pg_read_server_files', 'USAGE') FROM pg_roles WHERE rolname = 'root')),
	'f', 'the role pushing is no superuser and may not read the server\'s files');
my ($ok, $out, $err) = as_postgres('psql', '-X', '-q', '-At', '-d', 'postgres',
	'-c', q(LOAD 'morgenmigrate'), '-c', 'SHOW morgenmigrate.allowed_directories');
is($out, "\n", 'morgenmigrate.allowed_directories is unset') or diag($err);

for my $set ([ 'demo', 'demo', 'apply', 'SELECT count(*) FROM morgenmigrate.migrate_apply(%s)' ],
	[ 'goose', 'layouts/goose', 'run', 'CALL morgenmigrate.migrate_run(%s)' ])
{
	my ($name, $fixture, $command, $disk_call) = @$set;

	for my $db ("disk_$name", "push_$name")
	{
		psql_postgres('postgres', "DROP DATABASE IF EXISTS $db");
		psql_postgres('postgres', "CREATE DATABASE $db OWNER root");
		psql_postgres($db, 'CREATE EXTENSION morgenmigrate');
		psql_postgres($db, readme_sql('push-grant') =~ s/\bdeploy\b/root/gr);
	}

	# a copy only root can read
	my $dir = tempdir("mm-push-$name-XXXX", DIR => '/var/tmp', CLEANUP => 1);
	system('cp', '-R', "$fixtures/$fixture/.", $dir) == 0 or die "cp $fixture";
	is((stat $dir)[2] & 07777, 0700, "$name: the client's directory has mode 0700");
	my ($readable) = as_postgres('ls', $dir);
	ok(!$readable, "$name: the server's OS user cannot read it");

	my ($rc, $pushed, $push_err) = push_set("push_$name", $dir, $command);
	is($rc, 0, "$name: morgenmigrate-push $command exits 0") or diag($push_err);
	psql_postgres("disk_$name", sprintf($disk_call, "'$fixtures/$fixture'"));
	isnt(history("push_$name"), '', "$name: the pushed set is recorded");
	is(history("push_$name"), history("disk_$name"),
		"$name: the same history, checksums included, as from the server's directory");
	is(psql_postgres("push_$name", 'SELECT DISTINCT applied_by FROM morgenmigrate.schema_migrations'),
		'root', "$name: applied by the deploy role");
	is(dump_schema("push_$name"), dump_schema("disk_$name"),
		"$name: the same schema as from the server's directory");
}
like(psql_postgres('push_goose',
		q(SELECT string_agg(indexrelid::regclass || ':' || indisvalid, ',') FROM pg_index WHERE indrelid = 'goose_accounts'::regclass)),
	qr/goose_accounts_status_idx:true/, 'goose: the index built concurrently is there, valid');

for my $db (qw(disk_demo push_demo disk_goose push_goose))
{
	psql_postgres('postgres', "DROP DATABASE $db");
}
psql_postgres('postgres', 'DROP ROLE root');
done_testing();
