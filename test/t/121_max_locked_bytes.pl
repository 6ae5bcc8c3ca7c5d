# morgenmigrate.max_locked_bytes on a table of 300,000 rows: migrate_apply
# (all-or-nothing and not), migrate_run and both rollbacks refuse, before
# anything runs, a call with a file that would read every row of a bigger
# relation under a lock that blocks writes (SQLSTATE 55000, the file, line
# and relation, the safe pattern as the hint), and nothing changes: not the
# table (same relfilenode, no new column), not the history, not
# migration_errors; not even the files before the refused one.  A file
# that says allow-locked-rewrite runs; a limit above the table's size lets
# it run; a concurrent index build, which blocks no writes, is never
# refused; the setting holds when a team sets it with ALTER DATABASE.
# Not only a rewrite: an index build, a scan (CHECK, SET NOT NULL),
# REINDEX, CLUSTER and VACUUM FULL are refused the same way; VALIDATE
# CONSTRAINT, VACUUM, tables the call creates (a foreign key of one to the
# big table too, which reads no row of it) and a table it fills (unknown)
# are not.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../perl";
use MorgenmigrateTest qw(write_set);

my $node = PostgreSQL::Test::Cluster->new('max_locked_bytes');
$node->init;
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION morgenmigrate;
CREATE TABLE accounts (id bigint PRIMARY KEY, balance numeric, owner text);
INSERT INTO accounts SELECT g, g, 'o' || g FROM generate_series(1, 300000) g;
CREATE TABLE notes (id int);
});

my $base = PostgreSQL::Test::Utils::tempdir();
my $set = write_set("$base/set",
	'001_notes_body.sql' => "ALTER TABLE notes ADD COLUMN body text;\n",
	'002_accounts_opened.sql' => "-- the index first, then the rewrite\n"
	  . "CREATE INDEX notes_id ON notes (id);\n"
	  . "ALTER TABLE accounts ADD COLUMN opened timestamptz DEFAULT clock_timestamp();\n");
my $allowed = write_set("$base/allowed",
	'001_notes_body.sql' => "ALTER TABLE notes ADD COLUMN body text;\n",
	'002_accounts_opened.sql' => "-- morgenmigrate: allow-locked-rewrite\n"
	  . "ALTER TABLE accounts ADD COLUMN opened timestamptz DEFAULT clock_timestamp();\n");
my $concurrent = write_set("$base/concurrent",
	'001_accounts_owner.sql' => "CREATE INDEX CONCURRENTLY accounts_owner ON accounts (owner);\n");

my $size = $node->safe_psql('postgres', "SELECT pg_total_relation_size('accounts')");
ok($size > 20 * 1024 * 1024, "accounts is big: $size bytes");

# The state a refused call must leave as it was.
sub state
{
	return $node->safe_psql('postgres', q{
		SELECT pg_relation_filenode('accounts') || ' '
		  || (SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute
		       WHERE attrelid IN ('accounts'::regclass, 'notes'::regclass)
		         AND attnum > 0 AND NOT attisdropped) || ' '
		  || (SELECT count(*) FROM pg_index WHERE indrelid = 'notes'::regclass) || ' '
		  || (SELECT count(*) FROM morgenmigrate.schema_migrations) || ' '
		  || (SELECT count(*) FROM morgenmigrate.migration_errors)});
}
my $before = state();
my $limit = "SET morgenmigrate.max_locked_bytes = '1MB'; ";

for my $call (
	[ 'migrate_apply', "SELECT * FROM morgenmigrate.migrate_apply('$set')" ],
	[ 'migrate_apply(atomic => false)', "SELECT * FROM morgenmigrate.migrate_apply('$set', atomic => false)" ],
	[ 'migrate_apply(dry_run => true)', "SELECT * FROM morgenmigrate.migrate_apply('$set', dry_run => true)" ],
	[ 'migrate_run', "CALL morgenmigrate.migrate_run('$set')" ])
{
	my ($name, $sql) = @$call;
	my ($rc, $out, $err) = $node->psql('postgres', $limit . $sql,
		extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	isnt($rc, 0, "$name: refused");
	like($err, qr/ERROR:  55000: migration "002_accounts_opened.sql", line 3, would rewrite public\.accounts \(\d+ MB\) under AccessExclusiveLock/,
		"$name: 55000, naming the file, the line and the relation with its size");
	like($err, qr/HINT:  ADD COLUMN opened \.\.\. DEFAULT clock_timestamp\(\) rewrites \d+ MB public\.accounts under AccessExclusiveLock: add the column without a default, backfill it in batches, then SET DEFAULT/,
		"$name: migrate_plan's advice as the hint");
	like($err, qr/allow-locked-rewrite/, "$name: the detail names the directive");
	is(state(), $before, "$name: nothing changed, the file before it neither");
}

# a rollback is refused the same way
$node->safe_psql('postgres', "SELECT * FROM morgenmigrate.migrate_apply('$allowed')");
my $applied = state();
PostgreSQL::Test::Utils::append_to_file("$allowed/002_accounts_opened.down.sql",
	"ALTER TABLE accounts ALTER COLUMN balance TYPE bigint;\n");
for my $call (
	[ 'migrate_rollback', "SELECT * FROM morgenmigrate.migrate_rollback('$allowed')" ],
	[ 'migrate_run_rollback', "CALL morgenmigrate.migrate_run_rollback('$allowed')" ])
{
	my ($name, $sql) = @$call;
	my ($rc, $out, $err) = $node->psql('postgres', $limit . $sql);
	like($err, qr/migration "002_accounts_opened\.down\.sql", line 1, would rewrite public\.accounts/,
		"$name: a down migration that rewrites a big table is refused");
	is(state(), $applied, "$name: nothing changed");
}
unlink "$allowed/002_accounts_opened.down.sql";
$node->safe_psql('postgres', q{
	ALTER TABLE accounts DROP COLUMN opened;
	ALTER TABLE notes DROP COLUMN body;
	TRUNCATE morgenmigrate.schema_migrations});

# the directive lets the file take the cost on purpose
$before = $node->safe_psql('postgres', "SELECT pg_relation_filenode('accounts')");
$node->safe_psql('postgres', $limit . "SELECT * FROM morgenmigrate.migrate_apply('$allowed')");
isnt($node->safe_psql('postgres', "SELECT pg_relation_filenode('accounts')"),
	$before, 'allow-locked-rewrite: the file rewrites the table');
is($node->safe_psql('postgres', 'SELECT count(*) FROM morgenmigrate.schema_migrations'),
	'2', 'allow-locked-rewrite: both files applied');
$node->safe_psql('postgres', q{
	ALTER TABLE accounts DROP COLUMN opened;
	ALTER TABLE notes DROP COLUMN body;
	TRUNCATE morgenmigrate.schema_migrations});

# a limit above the table's size refuses nothing
$node->safe_psql('postgres', "SET morgenmigrate.max_locked_bytes = '1GB'; "
	  . "SELECT * FROM morgenmigrate.migrate_apply('$set')");
is($node->safe_psql('postgres', 'SELECT count(*) FROM morgenmigrate.schema_migrations'),
	'2', 'a limit of 1GB lets a 20 MB rewrite run');
$node->safe_psql('postgres', q{
	ALTER TABLE accounts DROP COLUMN opened;
	ALTER TABLE notes DROP COLUMN body;
	DROP INDEX notes_id;
	TRUNCATE morgenmigrate.schema_migrations});

# set by a team for the database: every new session has it
$node->safe_psql('postgres', "ALTER DATABASE postgres SET morgenmigrate.max_locked_bytes = '1MB'");
my ($rc, $out, $err) = $node->psql('postgres', "SELECT * FROM morgenmigrate.migrate_apply('$set')");
like($err, qr/would rewrite public\.accounts/, 'ALTER DATABASE ... SET: refused in a new session');
is($node->safe_psql('postgres', "LOAD 'morgenmigrate'; SHOW morgenmigrate.max_locked_bytes"),
	'1MB', 'and SHOW says so');

# a concurrent index build blocks no writes: never refused
$node->safe_psql('postgres', "CALL morgenmigrate.migrate_run('$concurrent')");
is($node->safe_psql('postgres',
		"SELECT count(*) FROM pg_indexes WHERE indexname = 'accounts_owner'"),
	'1', 'CREATE INDEX CONCURRENTLY of a big table runs under the limit');

# Every statement that reads every row of the big table under a lock that
# blocks writes is refused, not only a rewrite: an index build (ShareLock),
# a scan (a CHECK constraint, SET NOT NULL), REINDEX, CLUSTER, VACUUM FULL;
# each refused before anything runs, the file before it neither run nor
# recorded (atomic => false, where it would stay), nothing changed.  The
# limit is the database's 1MB set above.
$node->safe_psql('postgres',
	'ALTER TABLE accounts ADD CONSTRAINT positive CHECK (balance > 0) NOT VALID');

# What a refused call must leave as it was: the table's file, columns and
# NOT NULL, indexes, constraints and their validity, the marker table the
# first file would create, the history and migration_errors.
sub full_state
{
	return $node->safe_psql('postgres', q{
		SELECT pg_relation_filenode('accounts') || ' '
		  || (SELECT string_agg(attname || ':' || attnotnull, ',' ORDER BY attnum) FROM pg_attribute
		       WHERE attrelid = 'accounts'::regclass AND attnum > 0 AND NOT attisdropped) || ' '
		  || (SELECT string_agg(indexrelid::regclass::text || ':' || pg_relation_filenode(indexrelid), ','
		                        ORDER BY indexrelid::regclass::text)
		        FROM pg_index WHERE indrelid = 'accounts'::regclass) || ' '
		  || (SELECT string_agg(conname || ':' || convalidated, ',' ORDER BY conname)
		        FROM pg_constraint WHERE conrelid = 'accounts'::regclass) || ' '
		  || coalesce(to_regclass('marker')::text, 'no marker') || ' '
		  || (SELECT count(*) FROM morgenmigrate.schema_migrations) || ' '
		  || (SELECT count(*) FROM morgenmigrate.migration_errors)});
}
$node->safe_psql('postgres', 'TRUNCATE morgenmigrate.schema_migrations');
my $full_before = full_state();
my $n = 0;
for my $case (
	[ 'CREATE INDEX', "CREATE INDEX accounts_owner_plain ON accounts (owner);\n",
		qr/would build an index of public\.accounts \(\d+ MB\) under ShareLock/ ],
	[ 'ADD CONSTRAINT CHECK', "ALTER TABLE accounts ADD CONSTRAINT id_positive CHECK (id > 0);\n",
		qr/would read every row of public\.accounts \(\d+ MB\) under AccessExclusiveLock/ ],
	[ 'SET NOT NULL', "ALTER TABLE accounts ALTER COLUMN owner SET NOT NULL;\n",
		qr/would read every row of public\.accounts \(\d+ MB\) under AccessExclusiveLock/ ],
	[ 'REINDEX', "REINDEX TABLE accounts;\n",
		qr/would build an index of public\.accounts \(\d+ MB\) under ShareLock/ ],
	[ 'CLUSTER', "CLUSTER accounts USING accounts_pkey;\n",
		qr/would rewrite public\.accounts \(\d+ MB\) under AccessExclusiveLock/ ],
	[ 'VACUUM FULL', "VACUUM FULL accounts;\n",
		qr/would rewrite public\.accounts \(\d+ MB\) under AccessExclusiveLock/ ])
{
	my ($name, $sql, $message) = @$case;
	my $dir = write_set("$base/refused_" . ++$n,
		'001_marker.sql' => "CREATE TABLE marker (id int);\n",
		'002_big.sql' => $sql);
	# VACUUM FULL runs only in migrate_run
	my $call = $name eq 'VACUUM FULL'
	  ? "CALL morgenmigrate.migrate_run('$dir')"
	  : "SELECT * FROM morgenmigrate.migrate_apply('$dir', atomic => false)";
	($rc, $out, $err) = $node->psql('postgres', $call,
		extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	like($err, qr/ERROR:  55000: migration "002_big\.sql", line 1, $message/,
		"$name of the big table: refused (55000)");
	is(full_state(), $full_before, "$name: nothing changed, the file before it neither");
}

# Not refused: what blocks no writes (VALIDATE CONSTRAINT, VACUUM), tables
# the call creates (empty; a foreign key of one checks no row of the big
# table it references), and what no rule can judge (a table the call
# filled from the big one)
for my $case (
	[ 'VALIDATE CONSTRAINT', "ALTER TABLE accounts VALIDATE CONSTRAINT positive;\n" ],
	[ 'VACUUM', "VACUUM accounts;\n" ],
	[ 'a table the call creates', "CREATE TABLE fresh (id int);\n"
		  . "ALTER TABLE fresh ALTER COLUMN id TYPE bigint;\nCREATE INDEX fresh_id ON fresh (id);\n" ],
	[ 'a table the call fills', "CREATE TABLE filled AS SELECT * FROM accounts;\n"
		  . "ALTER TABLE filled ALTER COLUMN id TYPE text;\n" ],
	[ 'a foreign key of a table the call creates to the big table',
		"CREATE TABLE child (id int, account_id bigint);\n"
		  . "ALTER TABLE child ADD FOREIGN KEY (account_id) REFERENCES accounts;\n" ])
{
	my ($name, $sql) = @$case;
	my $dir = write_set("$base/allowed_" . ++$n, '001_ok.sql' => $sql);
	$node->safe_psql('postgres', "CALL morgenmigrate.migrate_run('$dir')");
	is($node->safe_psql('postgres', 'SELECT string_agg(filename, \',\') FROM morgenmigrate.schema_migrations'),
		'001_ok.sql', "$name: not refused, applied under the limit");
	$node->safe_psql('postgres', 'TRUNCATE morgenmigrate.schema_migrations');
}
is($node->safe_psql('postgres', q{
	SELECT convalidated || ',' || (to_regclass('fresh_id') IS NOT NULL) || ','
	  || (SELECT atttypid::regtype FROM pg_attribute WHERE attrelid = 'filled'::regclass AND attname = 'id')
	  FROM pg_constraint WHERE conname = 'positive'}),
	'true,true,text', 'and each did its work');

$node->stop;
done_testing();
