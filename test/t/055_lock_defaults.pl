# Safe by default: a migration file without directives gets the lock
# timeout and retries of morgenmigrate.lock_timeout and
# morgenmigrate.lock_retries (set here with ALTER DATABASE and ALTER ROLE,
# as a team would), against a real lock held by another session: it gives
# up after its retries with nothing applied, or succeeds once the lock is
# released between two tries.  A file's own directive overrides the
# settings; 0 turns them off; a file with CREATE INDEX CONCURRENTLY keeps
# the caller's lock_timeout and waits for older transactions as it must.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('lock_defaults');
$node->init;
$node->start;
$node->safe_psql('postgres',
	'CREATE EXTENSION morgenmigrate; CREATE TABLE busy (id int)');

# Writes a one-file migration set; returns its directory.
sub migration_set
{
	my ($text) = @_;
	my $dir = PostgreSQL::Test::Utils::tempdir();
	PostgreSQL::Test::Utils::append_to_file("$dir/001_busy.sql", $text);
	return $dir;
}

# Whether column busy.note exists, and how many files are recorded.
sub state
{
	return $node->safe_psql('postgres',
		"SELECT (SELECT count(*) FROM pg_attribute WHERE attrelid = 'busy'::regclass AND attname = 'note' AND NOT attisdropped)"
		  . " || '/' || (SELECT count(*) FROM morgenmigrate.schema_migrations)");
}

my $plain = migration_set("ALTER TABLE busy ADD COLUMN note text;\n");

# the defaults, as a new session sees them once the library is loaded
is( $node->safe_psql('postgres',
		"LOAD 'morgenmigrate'; SHOW morgenmigrate.lock_timeout; SHOW morgenmigrate.lock_retries"),
	"100ms\n10", 'the defaults are lock_timeout 100ms and 10 retries');

# set for the database and the role, as ALTER DATABASE/ROLE ... SET do
$node->safe_psql('postgres',
	"ALTER DATABASE postgres SET morgenmigrate.lock_timeout = '200ms'; "
	  . 'ALTER ROLE CURRENT_USER SET morgenmigrate.lock_retries = 2');

my $holder = $node->background_psql('postgres');
$holder->query_safe('BEGIN; LOCK TABLE busy IN ACCESS SHARE MODE');

# a file without directives: three tries of 200ms, then the lock timeout
my $t0 = time();
my ($rc, $stdout, $stderr) = $node->psql('postgres',
	"SELECT * FROM morgenmigrate.migrate_apply('$plain')");
isnt($rc, 0, 'a file without directives gives up while the lock is held');
like($stderr, qr/retry 1 of 2.*retry 2 of 2/s,
	'after the retries of morgenmigrate.lock_retries');
unlike($stderr, qr/retry 3 of/, 'and no more');
like($stderr, qr/ERROR:  canceling statement due to lock timeout/,
	'the error is the lock timeout');
like($stderr, qr/CONTEXT:  migration "001_busy.sql", line 1/, 'with the file and line');
is(state(), '0/0', 'nothing was applied or recorded');
is($node->safe_psql('postgres', 'SHOW lock_timeout'), '0',
	"the session's own lock_timeout is untouched");

# a directive overrides both settings
my $directive = migration_set(
	"-- morgenmigrate: retries=0\nALTER TABLE busy ADD COLUMN note text;\n");
($rc, $stdout, $stderr) = $node->psql('postgres',
	"SELECT * FROM morgenmigrate.migrate_apply('$directive')");
isnt($rc, 0, 'retries=0 in the file gives up at the first lock timeout');
unlike($stderr, qr/retry \d+ of/, 'without retrying');
like($stderr, qr/canceling statement due to lock timeout/, 'on the setting\'s lock_timeout');
$directive = migration_set(
	"-- morgenmigrate: lock_timeout=50ms retries=1\nALTER TABLE busy ADD COLUMN note text;\n");
($rc, $stdout, $stderr) = $node->psql('postgres',
	"SELECT * FROM morgenmigrate.migrate_apply('$directive')");
like($stderr, qr/retry 1 of 1/, "the file's own retries=1");
unlike($stderr, qr/retry 2 of/, 'and not the setting\'s 2');
is(state(), '0/0', 'nothing was applied or recorded');

# turned off in the call's session: the file waits as it always did, here
# until the caller's own lock_timeout
($rc, $stdout, $stderr) = $node->psql('postgres',
	"SET morgenmigrate.lock_timeout = 0; SET morgenmigrate.lock_retries = 0; SET lock_timeout = '300ms';"
	  . "SELECT * FROM morgenmigrate.migrate_apply('$plain')");
like($stderr, qr/canceling statement due to lock timeout/,
	'with the settings at 0 the caller\'s lock_timeout applies');
unlike($stderr, qr/retry \d+ of/, 'without retries');

# the defaults again, with the lock released between two tries: applied
$node->safe_psql('postgres', 'ALTER ROLE CURRENT_USER SET morgenmigrate.lock_retries = 50');
my $migrator = $node->background_psql('postgres', on_error_stop => 0);
$migrator->{stdin} .= "SELECT count(*) FROM morgenmigrate.migrate_apply('$plain');\n";
ok( pump_until(
		$migrator->{run}, $migrator->{timeout},
		\$migrator->{stderr}, qr/retry 1 of 50/),
	'a file without directives retries while the lock is held');
is(state(), '0/0', 'and has applied nothing yet');
$holder->query_safe('COMMIT');
my ($applied) = $migrator->query("SELECT 'done'");
like($applied, qr/^1\ndone$/, 'once the lock is free it is applied');
unlike($migrator->{stderr}, qr/ERROR/, 'without an error');
is(state(), '1/1', 'the column is there and the file recorded');
$migrator->quit;

# CREATE INDEX CONCURRENTLY waits for every older transaction: a file
# holding one keeps the caller's lock_timeout (0 here) and waits for them
my $cic = migration_set("ALTER TABLE busy ADD COLUMN note text;\n");
PostgreSQL::Test::Utils::append_to_file("$cic/002_busy_index.sql",
	"CREATE INDEX CONCURRENTLY busy_id ON busy (id);\n");
$holder->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM busy');
$migrator = $node->background_psql('postgres', on_error_stop => 0);
$migrator->{stdin} .= "CALL morgenmigrate.migrate_run('$cic');\nSELECT 'ran';\n";
$migrator->{run}->pump_nb();
ok( $node->poll_query_until('postgres',
		"SELECT count(*) > 0 FROM pg_locks WHERE locktype = 'virtualxid' AND NOT granted"),
	'CREATE INDEX CONCURRENTLY waits for the older transaction');
sleep(1);    # five times the lock_timeout the setting gives other files
is( $node->safe_psql('postgres',
		"SELECT count(*) FROM morgenmigrate.migration_errors"),
	'0', 'and has not failed a second later');
$holder->query_safe('COMMIT');
ok(pump_until($migrator->{run}, $migrator->{timeout}, \$migrator->{stdout}, qr/ran/),
	'the call returns once the transaction ends');
unlike($migrator->{stderr}, qr/ERROR|retry/, 'without an error or a retry');
is( $node->safe_psql('postgres',
		"SELECT indisvalid FROM pg_index WHERE indexrelid = 'busy_id'::regclass"),
	't', 'the index is built and valid');
is($node->safe_psql('postgres', 'SELECT count(*) FROM morgenmigrate.schema_migrations'),
	'2', 'and the file recorded');

$migrator->quit;
$holder->quit;
$node->stop;
done_testing();
