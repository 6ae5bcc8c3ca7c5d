# A migration that cannot get its lock fails fast (lock_timeout) and is
# retried as often as its retries directive says, with a NOTICE per retry.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('retries');
$node->init;
$node->start;
$node->safe_psql('postgres',
	'CREATE EXTENSION morgenmigrate; CREATE TABLE busy (id int)');

# Writes a one-file migration set that adds a column to busy.
sub migration_set
{
	my ($directive) = @_;
	my $dir = PostgreSQL::Test::Utils::tempdir();
	open my $fh, '>', "$dir/001_add_busy_note.sql" or die $!;
	print $fh "-- morgenmigrate: $directive\n"
	  . "ALTER TABLE busy ADD COLUMN note text;\n";
	close $fh;
	return $dir;
}

# Another session holds a lock on the table the migration alters.
my $holder = $node->background_psql('postgres');
$holder->query_safe('BEGIN; LOCK TABLE busy IN ACCESS SHARE MODE');

# Three tries (the first and two retries), then the lock timeout is the error.
my $dir = migration_set('lock_timeout=100ms retries=2');
my ($rc, $stdout, $stderr) = $node->psql('postgres',
	"SELECT * FROM morgenmigrate.migrate_apply('$dir')");
isnt($rc, 0, 'gives up while the lock is held');
like($stderr, qr/retry 1 of 2.*retry 2 of 2/s, 'a NOTICE for each retry');
unlike($stderr, qr/retry 3 of/, 'no more retries than asked for');
like($stderr, qr/ERROR:  canceling statement due to lock timeout/,
	'the error is the lock timeout');
like($stderr, qr/CONTEXT:  migration "001_add_busy_note.sql", line 2/,
	'with the file and line');
is( $node->safe_psql(
		'postgres',
		"SELECT count(*) FROM pg_attribute WHERE attrelid = 'busy'::regclass AND attname = 'note'"
	),
	'0',
	'the column was not added');
is($node->safe_psql('postgres', 'SELECT count(*) FROM morgenmigrate.schema_migrations'),
	'0', 'nothing recorded');

# With the lock released between two tries, the migration succeeds.
$dir = migration_set('lock_timeout=100ms retries=50');
my $migrator = $node->background_psql('postgres', on_error_stop => 0);
$migrator->{stdin} .= "SELECT count(*) FROM morgenmigrate.migrate_apply('$dir');\n";
ok( pump_until(
		$migrator->{run}, $migrator->{timeout},
		\$migrator->{stderr}, qr/retry 1 of 50/),
	'the migration is retrying while the lock is held');
is($node->safe_psql('postgres', 'SELECT count(*) FROM morgenmigrate.schema_migrations'),
	'0', 'and has applied nothing yet');
$holder->query_safe('COMMIT');
my ($applied) = $migrator->query("SELECT 'done'");
like($applied, qr/^1\ndone$/, 'the migration call returned one applied file');
unlike($migrator->{stderr}, qr/ERROR/, 'and raised no error');
is( $node->safe_psql(
		'postgres',
		"SELECT count(*) FROM pg_attribute WHERE attrelid = 'busy'::regclass AND attname = 'note'"
	),
	'1',
	'the column was added');
is( $node->safe_psql('postgres',
		'SELECT filename FROM morgenmigrate.schema_migrations'),
	'001_add_busy_note.sql',
	'and the file recorded');
is($node->safe_psql('postgres', 'SHOW lock_timeout'),
	'0', 'lock_timeout of the file did not leak');

$migrator->quit;

# Several files in one all-or-nothing call: the blocked file is the second.
# Its retries run the call again from its first file, whose work was rolled
# back with the try: every file applies once, each recorded once, each row
# returned once, and the first file's settings reach no one.
$node->safe_psql('postgres', 'CREATE TABLE busy_too (id int)');
my $set = PostgreSQL::Test::Utils::tempdir();
PostgreSQL::Test::Utils::append_to_file("$set/001_create_before.sql",
	"SET work_mem = '7MB';\nCREATE TABLE made_before (id int);\n"
	  . "INSERT INTO made_before VALUES (1);\n");
PostgreSQL::Test::Utils::append_to_file("$set/002_blocked.sql",
	"-- morgenmigrate: lock_timeout=100ms retries=50\n"
	  . "ALTER TABLE busy_too ADD COLUMN note text;\n");
PostgreSQL::Test::Utils::append_to_file("$set/003_create_after.sql",
	"CREATE TABLE made_after (id int);\n");
$holder->query_safe('BEGIN; LOCK TABLE busy_too IN ACCESS SHARE MODE');
$migrator = $node->background_psql('postgres', on_error_stop => 0);
$migrator->{stdin} .= "SELECT string_agg(filename || ':' || status, ' ') FROM morgenmigrate.migrate_apply('$set');\n";
ok( pump_until(
		$migrator->{run}, $migrator->{timeout},
		\$migrator->{stderr}, qr/migration "002_blocked.sql" could not get a lock, retry 2 of 50/),
	'the blocked second file is retried');
$holder->query_safe('COMMIT');
($applied) = $migrator->query("SELECT 'done'");
like($applied, qr/^001_create_before.sql:applied 002_blocked.sql:applied 003_create_after.sql:applied\ndone$/,
	'the call returns each file once, applied');
unlike($migrator->{stderr}, qr/ERROR/, 'and raises no error');
is($node->safe_psql('postgres',
		'SELECT string_agg(filename, \' \' ORDER BY applied_at) FROM morgenmigrate.schema_migrations'
		  . " WHERE filename LIKE '00%' AND filename <> '001_add_busy_note.sql'"),
	'001_create_before.sql 002_blocked.sql 003_create_after.sql',
	'each file recorded once, in order');
is($node->safe_psql('postgres', 'SELECT count(*) FROM made_before'), '1',
	'the first file ran once: its row is there once');
is(scalar $migrator->query('SHOW work_mem'), '4MB', 'its setting did not reach the caller');

$migrator->quit;
$holder->quit;
$node->stop;
done_testing();
