# Push: morgenmigrate-push, as make install puts it beside psql, sends a
# migration directory of the client over psql and calls the push forms.
#
# - The same sets pushed and read from the server's disk, each into a
#   database of its own (the demo set with migrate_apply; dbmate, diesel,
#   Flyway and goose directories with migrate_run, goose's index built
#   concurrently by the worker): the same history (names, checksums,
#   kinds) and the same pg_dump --schema-only.  status, check and rollback
#   from the client.
# - A failing migration: the client exits non-zero with the error and its
#   CONTEXT line, and nothing of the call stays.
# - What the client refuses before it connects, saying which entry: an
#   unreadable file, an unreadable subdirectory, a link that leads nowhere,
#   a name holding a line break, bad arguments (exit 1).  Nothing is sent,
#   nothing changes.  A FIFO is skipped.  A failed call exits 3, no
#   connection 2 (psql's codes).
# - --schemas: apply (with --target), run (a concurrent index build in
#   each tenant), status, check and plan in tenant schemas, each with its
#   own history, the database's own left alone; a bad schema fails the
#   call, rollback refuses the option, with nothing changed; an empty list
#   does nothing and says so, and never migrates the database instead.
# - The deploy step of docs/operations.md ("push-deploy") and README.md's
#   push form called from SQL ("push-sql"), as they stand there.
# - A row of the table changed under the call (by the call's own first
#   file) is an error, and the changed file never runs.
# - Slices: files of 8 MB (one slice), 8 MB and a byte (two, the second of
#   one byte) and an empty file (one empty slice), pushed: the history the
#   same files give from disk.
# - Memory (VmHWM of the backend, read by the session itself; the peak is
#   reset with /proc/PID/clear_refs between the upload and the call): a set
#   of 10,000 files and a set holding one 100 MB file.  The pushed call
#   needs no more than the call on the same files on disk, and the upload
#   holds one file at a time; for the 100 MB file, the calls stay within
#   twice its size, and the upload, which sends it in slices of 8 MB,
#   within half its size (each with the buffers a backend touches, and
#   8 MB).  These are bounds on memory, not timings.
use strict;
use warnings;

use File::Basename qw(dirname);
use IPC::Run;
use POSIX ();
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../perl";
use MorgenmigrateTest qw(superuser dump_schema guide_example);

my $fixtures = "$FindBin::Bin/../../migrations";
my $node = PostgreSQL::Test::Cluster->new('push');
$node->init;
# (few shared buffers: the peaks below count the shared memory a backend
# touches, a bounded part of them)
$node->append_conf('postgresql.conf',
	"morgenmigrate.max_file_size = '256MB'\nshared_buffers = '16MB'\n");
$node->start;
my $tmp = PostgreSQL::Test::Utils::tempdir();

# the client and psql, as make install left them
my ($client) = grep { -x } map { "$_/morgenmigrate-push" } split /:/, $ENV{PATH};
my ($psql) = grep { -x } map { "$_/psql" } split /:/, $ENV{PATH};
ok(defined $client && dirname($client) eq dirname($psql),
	'morgenmigrate-push is installed on the PATH, beside psql')
  or BAIL_OUT('morgenmigrate-push is not installed');

# A new database with the extension.
sub new_db
{
	my ($db) = @_;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, 'CREATE EXTENSION morgenmigrate');
}

# Runs the client on database DB with ARGS (and the environment ENV);
# returns its exit status, stdout and stderr.
sub push_set
{
	my ($db, $args, %env) = @_;
	local %ENV = (%ENV, %env);
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'morgenmigrate-push', '-h', $node->host, '-p', $node->port,
			'-U', superuser(), '-d', $db, @$args ],
		'<', \undef, '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

# Copies a fixture set into a new directory of the client, of mode 0700.
sub client_copy
{
	my ($set, $name) = @_;
	my $dir = "$tmp/$name";
	mkdir $dir, 0700 or die "mkdir $dir: $!";
	system('cp', '-R', "$fixtures/$set/.", $dir) == 0 or die "cp $set";
	return $dir;
}

# The history of database DB, one line per row.
sub history
{
	my ($db) = @_;
	return $node->safe_psql($db,
		'SELECT filename, checksum, kind FROM morgenmigrate.schema_migrations ORDER BY filename');
}

# the demo set, applied from the server's directory and pushed
new_db('disk_demo');
new_db('push_demo');
my $demo = client_copy('demo', 'demo');
$node->safe_psql('disk_demo', "SELECT count(*) FROM morgenmigrate.migrate_apply('$fixtures/demo')");
my ($rc, $out, $err) = push_set('push_demo', [$demo]);
is($rc, 0, 'the demo set: the client exits 0') or diag($err);
is(scalar(() = $out =~ /^ 00\d_\w+\.sql +\| applied /mg), 8,
	'the demo set: it prints the 8 files applied');
is(history('push_demo'), history('disk_demo'),
	'the demo set: the same history, checksums included, as from the server\'s directory');
is(dump_schema($node, 'push_demo'), dump_schema($node, 'disk_demo'),
	'the demo set: the same schema as from the server\'s directory');

($rc, $out, $err) = push_set('push_demo', [ $demo, 'check' ]);
is("$rc|$out|$err", '0||', 'check: exits 0, quietly, when everything is applied');
($rc, $out, $err) = push_set('push_demo', [ $demo, 'rollback', '--steps', '2' ]);
is($rc, 0, 'rollback --steps 2: exits 0') or diag($err);
like($out, qr/^ 008_feed_token\.sql +\| rolled back .*^ 007_rbac\.sql +\| rolled back /ms,
	'rollback --steps 2: rolls back the last two migrations');
($rc, $out, $err) = push_set('push_demo', [ $demo, 'status' ]);
like($out, qr/^ 007_rbac\.sql +\| pending .*^ 008_feed_token\.sql +\| pending /ms,
	'status: shows them pending');
my $before = history('push_demo');
($rc, $out, $err) = push_set('push_demo', [ $demo, 'plan' ]);
is($rc, 0, 'plan: exits 0') or diag($err);
like($out, qr/^ 007_rbac\.sql +\| +4 \| ALTER TABLE +\| members +\| AccessExclusiveLock +\| (?:catalog|scan|rewrite) .*^ 008_feed_token\.sql +\| +2 \| ALTER TABLE +\| workspace_config /ms,
	'plan: a row per pending statement and relation, with its lock');
($rc, $out, $err) = push_set('push_demo', [ $demo, 'plan', '--steps', '1' ]);
ok($rc == 0 && $out =~ /007_rbac/ && $out !~ /008_feed_token/, 'plan --steps 1: the first pending file only')
  or diag($out, $err);
is(history('push_demo'), $before, 'plan: nothing was applied');
($rc, $out, $err) = push_set('push_demo', [ $demo, 'check' ]);
isnt($rc, 0, 'check: exits non-zero when migrations are pending');
like($err, qr/2 migrations of "morgenmigrate_push" are not applied as they stand\nDETAIL:  Pending: 007_rbac\.sql, 008_feed_token\.sql\./,
	'check: and says which');
($rc, $out, $err) = push_set('push_demo', [ $demo, 'apply', '--target', '007' ]);
like($out, qr/\A[^\n]*\n[^\n]*\n 007_rbac\.sql +\| applied [^\n]*\n\(1 row\)/, 'apply --target: applies up to the target');
($rc, $out, $err) = push_set('push_demo', [ $demo, 'apply', '--dry-run' ]);
like($out, qr/^ 008_feed_token\.sql +\| rehearsed /m, 'apply --dry-run: rehearses');
push_set('push_demo', [$demo]);
is(history('push_demo'), history('disk_demo'), 'the demo set: applied again, the same history');

# other runners' directories, applied with migrate_run: subdirectories
# (diesel), config files (Flyway), an index built concurrently (goose)
for my $set (qw(dbmate diesel flyway goose))
{
	new_db("disk_$set");
	new_db("push_$set");
	my $dir = client_copy("layouts/$set", $set);
	$node->safe_psql("disk_$set", "CALL morgenmigrate.migrate_run('$fixtures/layouts/$set')");
	($rc, $out, $err) = push_set("push_$set", [ $dir, 'run' ]);
	is($rc, 0, "$set: run exits 0") or diag($err);
	my $history = history("push_$set");
	isnt($history, '', "$set: the history is not empty");
	is($history, history("disk_$set"), "$set: the same history as from the server's directory");
	is(dump_schema($node, "push_$set"), dump_schema($node, "disk_$set"),
		"$set: the same schema as from the server's directory");
}
my $indexes = q(SELECT string_agg(indexrelid::regclass || ':' || indisvalid, ',' ORDER BY 1)
	FROM pg_index WHERE indrelid = 'goose_accounts'::regclass);
like($node->safe_psql('push_goose', $indexes), qr/goose_accounts_\w+:true/,
	'goose: the index built concurrently from the pushed text is there, valid');
is($node->safe_psql('push_goose', $indexes), $node->safe_psql('disk_goose', $indexes),
	'goose: the same indexes as from the server\'s directory');

# a failing migration: the error, its line, and nothing of the call
new_db('failing');
my $failing = "$tmp/failing";
mkdir $failing, 0700;
append_to_file("$failing/001_ok.sql", "CREATE TABLE before_failure (id int);\n");
append_to_file("$failing/002_bad.sql", "CREATE TABLE t (id int);\n\nINSERT INTO nowhere VALUES (1);\n");
($rc, $out, $err) = push_set('failing', [$failing]);
is($rc, 3, 'a failing migration: the client exits 3, psql\'s code for a failed call');
like($err, qr/^ERROR:  relation "nowhere" does not exist\n.*^CONTEXT:  migration "002_bad\.sql", line 3$/ms,
	'a failing migration: the error and its CONTEXT line, on stderr');
is($node->safe_psql('failing',
		q(SELECT count(*) || ',' || (to_regclass('before_failure') IS NULL) FROM morgenmigrate.schema_migrations)),
	'0,true', 'a failing migration: nothing of the call stays');

# what the client refuses before it connects, naming it; nothing changes
my $refused = "$tmp/refused";
mkdir $refused, 0700;
append_to_file("$refused/001_ok.sql", "CREATE TABLE refused_ok (id int);\n");
append_to_file("$refused/002_secret.sql", "CREATE TABLE secret (id int);\n");
chmod 0000, "$refused/002_secret.sql";
($rc, $out, $err) = push_set('failing', [$refused]);
is($rc, 1, 'an unreadable client file: the client exits 1');
is($err, "morgenmigrate-push: cannot read \"$refused/002_secret.sql\": permission denied\n",
	'an unreadable client file: it says which');
chmod 0644, "$refused/002_secret.sql";
mkdir "$refused/2020-01-01-000000_sub", 0000;
($rc, $out, $err) = push_set('failing', [$refused]);
like($err, qr/^morgenmigrate-push: cannot read directory "\Q$refused\E\/2020-01-01-000000_sub": permission denied$/,
	'an unreadable subdirectory: the client says which');
rmdir "$refused/2020-01-01-000000_sub";
symlink "$refused/nowhere.sql", "$refused/003_link.sql";
($rc, $out, $err) = push_set('failing', [$refused]);
like($err, qr/^morgenmigrate-push: "\Q$refused\E\/003_link\.sql" is a symbolic link that leads nowhere$/,
	'a link that leads nowhere: the client says which');
unlink "$refused/003_link.sql";
POSIX::mkfifo("$refused/004_pipe.sql", 0600) or die "mkfifo: $!";
($rc, $out, $err) = push_set('failing', [ $refused, 'status' ]);
ok($rc == 0 && $err eq "morgenmigrate-push: skipping \"$refused/004_pipe.sql\": not a regular file\n"
	  && $out !~ /004_pipe/,
	'a FIFO: skipped, with a message, never opened') or diag($err);
unlink "$refused/004_pipe.sql";
for my $bad ([ [ $refused, 'migrate' ], qr/unknown command migrate/ ],
	[ [ $refused, '--steps', 'two' ], qr/--steps needs a number/ ],
	[ [ $refused, 'status', '--target', '1' ], qr/status takes no --target/ ],
	[ [ "$tmp/missing" ], qr/"\Q$tmp\E\/missing" is not a directory/ ])
{
	($rc, $out, $err) = push_set('failing', $bad->[0]);
	ok($rc != 0 && $err =~ $bad->[1], "refused: @{$bad->[0]}") or diag($err);
}
# a name holding a line break (LF or CR): refused before it connects,
# exit 1, saying which
for my $broken ("005_two\nlines.sql", "005_two\rlines.sql")
{
	append_to_file("$refused/$broken", "CREATE TABLE broken (id int);\n");
	($rc, $out, $err) = push_set('failing', [$refused]);
	is("$rc|$out|$err", "1||morgenmigrate-push: cannot send \"$refused/$broken\": its name holds a line break\n",
		'a name holding a line break: the client exits 1, saying which');
	unlink "$refused/$broken" or die "unlink: $!";
}
# a database it cannot connect to: psql's exit code 2
($rc, $out, $err) = push_set('no_such_database', [$refused]);
ok($rc == 2 && $err =~ /database "no_such_database" does not exist/,
	'no connection: the client exits 2 with psql\'s error') or diag("$rc: $err");
is($node->safe_psql('failing',
		q(SELECT count(*) || ',' || (to_regclass('refused_ok') IS NULL) FROM morgenmigrate.schema_migrations)),
	'0,true', 'nothing was sent: nothing changed');
($rc, $out, $err) = push_set('failing', [$refused]);
is($rc, 0, 'the same directory, readable: pushed') or diag($err);

# --schemas: apply, run, status, check and plan in tenant schemas, each
# with its own history; the database's own history is left alone.  A bad
# schema fails the call (exit 3) with nothing changed; rollback takes no
# --schemas (exit 1, nothing sent); an empty list is an empty array: the
# call does nothing and says so, as the SQL call does.
new_db('push_fleet');
$node->safe_psql('push_fleet', 'CREATE SCHEMA tenant_a; CREATE SCHEMA tenant_b; CREATE SCHEMA tenant_c');
my $tenants = "$tmp/tenants";
mkdir $tenants, 0700;
append_to_file("$tenants/001_accounts.sql", "CREATE TABLE accounts (id int PRIMARY KEY);\n");
append_to_file("$tenants/002_note.sql", "ALTER TABLE accounts ADD COLUMN note text;\n");
append_to_file("$tenants/003_note_idx.sql", "CREATE INDEX CONCURRENTLY accounts_note ON accounts (note);\n");

# Each tenant's history, tables and valid indexes, and the database's own
# history, one line each.
sub fleet_state
{
	return $node->safe_psql('push_fleet', q{
		SELECT n.nspname || '=' || coalesce((SELECT string_agg(c.relname, ',' ORDER BY c.relname)
		    FROM pg_class c LEFT JOIN pg_index i ON i.indexrelid = c.oid
		   WHERE c.relnamespace = n.oid AND c.relkind IN ('r', 'i') AND coalesce(i.indisvalid, true)), '')
		  || '|' || coalesce(CASE WHEN to_regclass(n.nspname || '.morgenmigrate_history') IS NOT NULL
		    THEN (xpath('/row/h/text()', query_to_xml(format(
		      'SELECT string_agg(filename, '','' ORDER BY filename) AS h FROM %I.morgenmigrate_history',
		      n.nspname), false, true, '')))[1]::text END, '')
		  FROM pg_namespace n WHERE n.nspname LIKE 'tenant\_%' ORDER BY n.nspname})
	  . "\nown=" . $node->safe_psql('push_fleet', 'SELECT count(*) FROM morgenmigrate.schema_migrations');
}

($rc, $out, $err) = push_set('push_fleet', [ $tenants, 'status', '--schemas', 'tenant_b,tenant_a' ]);
is($rc, 0, 'status --schemas: exits 0') or diag($err);
is(join(',', $out =~ /^ (tenant_\w+) +\| (\d+)_\w+\.sql +\| pending /mg),
	'tenant_a,001,tenant_a,002,tenant_a,003,tenant_b,001,tenant_b,002,tenant_b,003',
	'status --schemas: every file pending in each tenant, in the order of their names');
my $fleet_before = fleet_state();
is($fleet_before, "tenant_a=|\ntenant_b=|\ntenant_c=|\nown=0", 'status changed nothing');
($rc, $out, $err) = push_set('push_fleet', [ $tenants, 'apply', '--schemas', 'tenant_a', '--target', '2' ]);
is($rc, 0, 'apply --schemas --target: exits 0') or diag($err);
like($out, qr/^ tenant_a +\| 002_note\.sql +\| applied /m, 'apply --schemas: its rows name the tenant');
is(fleet_state(), "tenant_a=accounts,accounts_pkey,morgenmigrate_errors,morgenmigrate_errors_pkey,morgenmigrate_history,morgenmigrate_history_pkey|001_accounts.sql,002_note.sql\n"
	  . "tenant_b=|\ntenant_c=|\nown=0",
	'apply --schemas --target: the tenant is migrated up to the target, nothing else');
my $tenant_a_before = fleet_state();
($rc, $out, $err) = push_set('push_fleet', [ $tenants, 'plan', '--schemas', 'tenant_a' ]);
is($rc, 0, 'plan --schemas: exits 0') or diag($err);
like($out, qr/^ tenant_a +\| 003_note_idx\.sql +\| +1 \| CREATE INDEX +\| tenant_a\.accounts +\| ShareUpdateExclusiveLock +\| index /m,
	"plan --schemas: the tenant's pending file, on the tenant's own table");
is(fleet_state(), $tenant_a_before, 'plan changed nothing');
($rc, $out, $err) = push_set('push_fleet', [ $tenants, 'run', '--schemas', 'tenant_a,tenant_b' ]);
is($rc, 0, 'run --schemas: exits 0') or diag($err);
my $migrated = "accounts,accounts_note,accounts_pkey,morgenmigrate_errors,morgenmigrate_errors_pkey,morgenmigrate_history,morgenmigrate_history_pkey|"
  . "001_accounts.sql,002_note.sql,003_note_idx.sql";
is(fleet_state(), "tenant_a=$migrated\ntenant_b=$migrated\ntenant_c=|\nown=0",
	'run --schemas: both tenants migrated, the index built concurrently in each');
($rc, $out, $err) = push_set('push_fleet', [ $tenants, 'check', '--schemas', 'tenant_a,tenant_b' ]);
is("$rc|$out|$err", '0||', 'check --schemas: exits 0, quietly, when the tenants are up to date');
($rc, $out, $err) = push_set('push_fleet', [ $tenants, 'check', '--schemas', 'tenant_a,tenant_c' ]);
ok($rc == 3 && $err =~ /ERROR:  1 schema of 2 is not up to date .*\nDETAIL:  Schema "tenant_c": Pending: 001_accounts\.sql, 002_note\.sql, 003_note_idx\.sql\./,
	'check --schemas: exits 3, naming the tenant that is behind') or diag("$rc: $err");
$fleet_before = fleet_state();
($rc, $out, $err) = push_set('push_fleet', [ $tenants, 'run', '--schemas', 'tenant_c,no_such_tenant' ]);
ok($rc == 3 && $err =~ /ERROR:  schema "no_such_tenant" does not exist/,
	'a schema that does not exist: exits 3, saying so') or diag("$rc: $err");
($rc, $out, $err) = push_set('push_fleet', [ $tenants, 'apply', '--schemas', 'tenant_c,pg_catalog' ]);
ok($rc == 3 && $err =~ /ERROR:  schema "pg_catalog" cannot be migrated as a tenant/,
	'a schema that cannot be a tenant: exits 3, saying so') or diag("$rc: $err");
($rc, $out, $err) = push_set('push_fleet', [ $tenants, 'rollback', '--schemas', 'tenant_a' ]);
is("$rc|$err", "1|morgenmigrate-push: rollback takes no --schemas\n", 'rollback --schemas: refused, exit 1');
is(fleet_state(), $fleet_before, 'and none of these changed a tenant or the database\'s own history');
for my $command (qw(run apply))
{
	($rc, $out, $err) = push_set('push_fleet', [ $tenants, $command, '--schemas', '' ]);
	ok($rc == 0 && $err =~ /NOTICE:  argument "schemas" is empty, nothing to do/,
		"$command --schemas '': an empty list of tenants does nothing, and says so") or diag("$rc: $err");
}
is(fleet_state(), $fleet_before, 'the database itself was not migrated in their place');

# the deploy step of docs/operations.md, where the release's migrations/ is
# (the connection from the libpq variables)
sub deploy_step
{
	my ($release, $db) = @_;
	local %ENV = (%ENV, PGHOST => $node->host, PGPORT => $node->port,
		PGUSER => superuser(), PGDATABASE => $db);
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'sh', '-c', guide_example('push-deploy') ], '<', \undef,
		'>', \$out, '2>', \$err, init => sub { chdir $release or die "chdir $release: $!" });
	return ($? >> 8, $out, $err);
}
new_db('deploy_good');
new_db('deploy_bad');
mkdir "$tmp/release_good";
mkdir "$tmp/release_bad";
system('cp', '-R', "$fixtures/demo", "$tmp/release_good/migrations") == 0 or die;
system('cp', '-R', $failing, "$tmp/release_bad/migrations") == 0 or die;
($rc, $out, $err) = deploy_step("$tmp/release_good", 'deploy_good');
is($rc, 0, 'push-deploy: exits 0 on a good set') or diag($err);
is($node->safe_psql('deploy_good', 'SELECT count(*) FROM morgenmigrate.schema_migrations'),
	'8', 'push-deploy: every file applied');
($rc, $out, $err) = deploy_step("$tmp/release_bad", 'deploy_bad');
isnt($rc, 0, 'push-deploy: exits non-zero on a set with a failing file');
like($err, qr/^ERROR:  relation "nowhere" does not exist\n.*^CONTEXT:  migration "002_bad\.sql", line 3$/ms,
	'push-deploy: the error and its CONTEXT line on stderr');
is($node->safe_psql('deploy_bad', q(SELECT count(*) || ',' || (to_regclass('before_failure') IS NULL) FROM morgenmigrate.schema_migrations)),
	'0,true', 'push-deploy: nothing of the run applied');

# README.md's push form called from SQL
new_db('push_sql');
$node->safe_psql('push_sql', guide_example('push-sql', 'README.md'));
is($node->safe_psql('push_sql', q(SELECT filename FROM morgenmigrate.schema_migrations) . q( WHERE to_regclass('teams') IS NOT NULL)),
	'001_create_teams.sql', 'push-sql: the pushed file is applied and recorded');

# The table must stay as it is until the call ends: a row changed under
# the call (here by the call's own first file, which rewrites the second
# file's row) is an error (55000), and the changed file never runs: in
# migrate_apply, all or nothing and not, nothing of the call stays; in
# migrate_run, the first file stays committed, as any file before a
# failure does.  The session's next call reads the table anew.
new_db('push_changed');
my $changed_setup = q{
CREATE TEMPORARY TABLE changing (path text, content bytea);
INSERT INTO changing VALUES
    ('001_first.sql', convert_to('CREATE TABLE first (id int); '
       || 'UPDATE changing SET content = convert_to(''CREATE TABLE evil (id int);'', ''UTF8'') '
       || 'WHERE path = ''002_second.sql'';', 'UTF8')),
    ('002_second.sql', convert_to('CREATE TABLE second (id int);', 'UTF8'));
};
my $changed_state = q{SELECT (SELECT coalesce(string_agg(filename, ','), '-') FROM morgenmigrate.schema_migrations)
  || '|' || (SELECT count(*) FROM morgenmigrate.migration_errors)
  || '|' || concat_ws(',', to_regclass('first'), to_regclass('second'), to_regclass('evil'))};
for my $call ("SELECT * FROM morgenmigrate.migrate_apply(files => 'changing')",
	"SELECT * FROM morgenmigrate.migrate_apply(files => 'changing', atomic => false)",
	"CALL morgenmigrate.migrate_run(files => 'changing')")
{
	($rc, $out, $err) = ('', '', '');
	$node->psql('push_changed', "\\set VERBOSITY verbose\n$changed_setup$call;\n",
		stdout => \$out, stderr => \$err);
	like($err, qr/ERROR:  55000: pushed file "002_second\.sql" changed in table "changing" while migrations were running/,
		"a row changed under the call: an error ($call)");
	is($node->safe_psql('push_changed', $changed_state),
		$call =~ /migrate_run/ ? '001_first.sql|0|first' : '-|0|',
		"and the changed file never ran ($call)");
}

# the client's slices of 8 MB, at their edges: a file of one whole slice,
# one of a slice and a byte, an empty file
my $edges = "$tmp/edges";
mkdir $edges, 0700;
my $slice = 8 * 1024 * 1024;
for my $f ([ '001_one_slice.sql', $slice, 'CREATE TABLE one_slice (id int);' ],
	[ '002_a_byte_more.sql', $slice + 1, 'CREATE TABLE a_byte_more (id int);' ])
{
	my ($name, $size, $sql) = @{$f};
	my $text = "$sql\n-- ";
	$text .= 'e' x ($size - length($text) - 1) . "\n";
	die "$name: not $size bytes" unless length($text) == $size;
	append_to_file("$edges/$name", $text);
}
append_to_file("$edges/003_empty_next.sql", "CREATE TABLE empty_next (id int);\n");
append_to_file("$edges/README.md", '');
new_db('edges_push');
new_db('edges_disk');
($rc, $out, $err) = push_set('edges_push', [$edges]);
is($rc, 0, 'slices at their edges: pushed') or diag($err);
$node->safe_psql('edges_disk', "SELECT count(*) FROM morgenmigrate.migrate_apply('$edges')");
is(history('edges_push'), history('edges_disk'),
	'slices at their edges: a file of 8 MB, one of 8 MB and a byte, and an empty file give the history they give from disk');
is($node->safe_psql('edges_push', q(SELECT count(*) FROM morgenmigrate.schema_migrations)),
	'3', 'slices at their edges: the three migrations applied');

# Memory: test/perl/psql-with-memory as the client's psql reports the
# backend's peak (VmHWM) and private memory (RssAnon) at the start, after
# the upload, after resetting the peak, and at the end.
my $wrapper = "$tmp/bin";
mkdir $wrapper;
symlink "$FindBin::Bin/../perl/psql-with-memory", "$wrapper/psql" or die "symlink: $!";
my %with_memory = (PATH => "$wrapper:$ENV{PATH}", MM_REAL_PSQL => $psql);

# What a wrapped session printed: at its start, after the upload, after
# the reset, at its end, each [peak, private] in kB.
sub memory
{
	my ($out) = @_;
	my @kb = map { [ split / / ] } $out =~ /^ memory (\d+ \d+)$/mg;
	die "no memory figures in:\n$out" unless @kb == 4;
	return @kb;
}

# The reset works (else the bounds below would prove nothing): a session
# that made its peak 64 MB higher than it rests at has it back near its
# resting size after the reset.  (The upload itself no longer raises the
# peak enough to show it.)
{
	my ($out, $err) = ('', '');
	local %ENV = (%ENV, %with_memory);
	IPC::Run::run([ "$wrapper/psql", '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', $node->host,
			'-p', $node->port, '-d', 'postgres' ],
		'<', \"SELECT pg_catalog.length(pg_catalog.repeat('x', 64 * 1024 * 1024));\n\\o\n",
		'>', \$out, '2>', \$err)
	  or die "the reset check: $err";
	my @kb = memory($out);
	cmp_ok($kb[2][0], '<', $kb[1][0] - 32 * 1024,
		"the backend's peak is reset between the upload and the call ($kb[1][0] kB, then $kb[2][0] kB)");
}

# Applies directory DIR of the server in database DB through the wrapper;
# returns how much the call's peak grew, in kB.
sub disk_growth
{
	my ($db, $dir) = @_;
	my ($out, $err) = ('', '');
	local %ENV = (%ENV, %with_memory);
	IPC::Run::run([ "$wrapper/psql", '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', $node->host,
			'-p', $node->port, '-d', $db ],
		'<', \"\\o\nSELECT count(*) FROM morgenmigrate.migrate_apply('$dir');\n", '>', \$out, '2>', \$err)
	  or die "apply $dir: $err";
	my @kb = memory($out);
	return $kb[3][0] - $kb[2][0];
}

# 10,000 files of 4 kB (a comment and a statement), pushed and from disk
my $many = "$tmp/many";
mkdir $many, 0700;
for my $i (1 .. 10000)
{
	append_to_file(sprintf('%s/%05d_file.sql', $many, $i),
		'-- ' . ('m' x 4000) . "\nSELECT $i;\n");
}
new_db('many_push');
new_db('many_disk');
($rc, $out, $err) = push_set('many_push', [$many], %with_memory);
is($rc, 0, '10,000 files: pushed') or diag($err);
my @push_kb = memory($out);
is($node->safe_psql('many_push', 'SELECT count(*) FROM morgenmigrate.schema_migrations'),
	'10000', '10,000 files: all applied');
my $many_disk = disk_growth('many_disk', $many);
is(history('many_push'), history('many_disk'), '10,000 files: the same history as from disk');
my $many_push = $push_kb[3][0] - $push_kb[2][0];
my $many_upload = $push_kb[1][1] - $push_kb[0][1];
note "10,000 files of 4 kB (40 MB): private memory after the upload grew by $many_upload kB; "
  . "the call's peak grew by $many_push kB pushed, $many_disk kB from disk";
cmp_ok($many_push, '<', $many_disk + 4 * 1024,
	'10,000 files: the pushed call needs at most 4 MB more than the call on disk');
cmp_ok($many_upload, '<', 40 * 1024 / 3,
	'10,000 files: the upload keeps far less than the 40 MB it sent');

# one file of 100 MB (a long comment and a statement)
my $big = "$tmp/big";
mkdir $big, 0700;
open my $fh, '>', "$big/001_big.sql" or die;
print $fh ('-- ' . ('b' x 1000) . "\n") for 1 .. 100 * 1024;
print $fh "CREATE TABLE big_applied (id int);\n";
close $fh;
my $big_kb = int((-s "$big/001_big.sql") / 1024);
new_db('big_push');
new_db('big_disk');
($rc, $out, $err) = push_set('big_push', [$big], %with_memory);
is($rc, 0, 'a 100 MB file: pushed') or diag($err);
@push_kb = memory($out);
my $big_disk = disk_growth('big_disk', $big);
is(history('big_push'), history('big_disk'), 'a 100 MB file: the same history as from disk');
my $big_push = $push_kb[3][0] - $push_kb[2][0];
my $big_upload = $push_kb[1][0] - $push_kb[0][0];
note sprintf('a file of %d kB: the peak grew by %d kB in the upload (%.2fx), by %d kB in the call pushed (%.2fx), %d kB from disk (%.2fx)',
	$big_kb, $big_upload, $big_upload / $big_kb, $big_push, $big_push / $big_kb,
	$big_disk, $big_disk / $big_kb);
cmp_ok($big_push, '<', $big_disk + 8 * 1024,
	'a 100 MB file: the pushed call needs at most 8 MB more than the call on disk');

# Memory stays within twice the largest file, plus what a backend touches
# whatever the file: the buffers it reads and writes count in its peak
# (all of shared_buffers at most, and temp_buffers for the temporary
# table of the push), and 8 MB for its own caches, plans and the like.
my $buffers_kb = $node->safe_psql('postgres',
	q{SELECT (pg_size_bytes(current_setting('shared_buffers'))
	  + pg_size_bytes(current_setting('temp_buffers'))) / 1024});
my $bound_kb = 2 * $big_kb + $buffers_kb + 8 * 1024;
# the upload holds a slice of 8 MB at a time, never the whole file (it
# held it twice, as one value and as the row built from it, when a file
# was one row: 2.18 times the file)
cmp_ok($big_upload, '<', $big_kb / 2 + $buffers_kb + 8 * 1024,
	"a 100 MB file: the upload's peak grows by less than half the file, and $buffers_kb kB of buffers and 8 MB");
cmp_ok($big_push, '<', $bound_kb,
	"a 100 MB file: the pushed call's peak grows by at most twice the file, and $buffers_kb kB of buffers and 8 MB");
cmp_ok($big_disk, '<', $bound_kb,
	"a 100 MB file: the call on disk's peak grows by at most twice the file, and $buffers_kb kB of buffers and 8 MB");

$node->stop;
done_testing();
