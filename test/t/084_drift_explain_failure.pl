# A migration's error always reaches the user as it is, even when its
# explanation by drift cannot be made: the statement does not scan under
# the standard_conforming_strings the failed file left behind, or a row of
# the drift table (planted by a role granted INSERT on it) has an identity
# that does not scan.  The explanation is dropped; the error keeps its
# SQLSTATE, message, detail and CONTEXT line, and the history and
# migration_errors say what they say for any failure: with migrate_apply
# (all or nothing, with and without the file's subtransaction), with
# atomic => false, and with CALL migrate_run (statement by statement).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../perl";
use MorgenmigrateTest qw(write_set);

my $node = PostgreSQL::Test::Cluster->new('drift_explain');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE app');
$node->safe_psql('app', 'CREATE EXTENSION morgenmigrate');
$node->safe_psql('app', 'SELECT morgenmigrate.drift_enable()');
# drift: the table the failing files touch was made by hand
$node->safe_psql('app', 'CREATE TABLE hand_made (id int)');

my $base = PostgreSQL::Test::Utils::tempdir();
# the second file turns standard_conforming_strings off, so its next
# statement, split with it on, stops; scanned with it off, that
# statement's string never ends
my $strings = write_set("$base/strings",
	'001_paths.sql' => "CREATE TABLE paths (p text);\n",
	'002_paths_windows.sql' =>
	  "SELECT set_config('standard_conforming_strings', 'off', false);\n"
	  . "INSERT INTO paths VALUES ('C:\\');\n");
# the same, in a file that migrate_run runs statement by statement, where
# a setting holds from one statement to the next
my $strings_steps = write_set("$base/strings_steps",
	'001_paths.sql' => "CREATE TABLE paths (p text);\n",
	'002_paths_windows.sql' =>
	  "SELECT set_config('standard_conforming_strings', 'off', false);\n"
	  . "INSERT INTO paths VALUES ('C:\\');\n"
	  . "CREATE INDEX CONCURRENTLY paths_p ON paths (p);\n");
my $check = write_set("$base/check",
	'001_hand_made_ids.sql' => "CREATE TABLE ids (id int);\n",
	'002_hand_made_positive.sql' =>
	  "ALTER TABLE hand_made ADD CONSTRAINT hand_made_positive CHECK (id > 0);\n"
	  . "INSERT INTO hand_made VALUES (-1);\n");

# A call as psql runs it, with SQLSTATEs: (exit code, stdout, stderr).
sub call
{
	my ($sql) = @_;
	my ($rc, $out, $err) = $node->psql('app', $sql,
		extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	return ($rc, $out, $err);
}

# The history and the recorded failures, every column that does not
# change from run to run.
sub recorded
{
	return $node->safe_psql('app',
		q{SELECT coalesce(string_agg(filename || ' ' || kind, ',' ORDER BY filename), '')
		  FROM morgenmigrate.schema_migrations})
	  . "\n"
	  . $node->safe_psql('app',
		q{SELECT coalesce(string_agg(format('%s|%s|%s|%s|%s|%s', filename, sqlstate, message, detail, hint, line), E'\n' ORDER BY filename), '')
		  FROM morgenmigrate.migration_errors});
}

# Forgets what a set applied and failed, and drops what it made.
sub reset_set
{
	$node->safe_psql('app', q{
		DELETE FROM morgenmigrate.schema_migrations;
		DELETE FROM morgenmigrate.migration_errors;
		DROP TABLE IF EXISTS paths, ids;
		ALTER TABLE hand_made DROP CONSTRAINT IF EXISTS hand_made_positive;});
}

my $strings_error = qr/ERROR:  0A000: migration "002_paths_windows\.sql" changed standard_conforming_strings\n/;
my $strings_detail = 'The file was split into statements with standard_conforming_strings on; the statements after the change could end elsewhere, so they do not run.';
my $strings_hint = 'Set standard_conforming_strings before the call or for the database, not in a migration file.';
my $strings_failure = "002_paths_windows.sql|0A000|migration \"002_paths_windows.sql\" changed standard_conforming_strings|$strings_detail|$strings_hint|2";

# --- a file that turned standard_conforming_strings off
# all or nothing, without a subtransaction per file (no retries): the
# explanation runs before the transaction is rolled back, with the setting off
my ($rc, $out, $err) = call("SET morgenmigrate.lock_retries = 0; SELECT * FROM morgenmigrate.migrate_apply('$strings')");
isnt($rc, 0, 'strings, all or nothing: the call fails');
like($err, qr/${strings_error}DETAIL:  \Q$strings_detail\E\nHINT:  \Q$strings_hint\E\nCONTEXT:  migration "002_paths_windows\.sql", line 2\n/,
	'strings, all or nothing: the migration\'s own error, detail, hint and line');
unlike($err, qr/unterminated|nonstandard use|WARNING/, 'strings, all or nothing: nothing of the explanation shows');
is(recorded(), "\n", 'strings, all or nothing: nothing is recorded');
is($node->safe_psql('app', q{SELECT to_regclass('paths') IS NULL}), 't', 'strings, all or nothing: nothing stays');

# all or nothing with the default retries: the file's subtransaction puts
# the setting back before the explanation
($rc, $out, $err) = call("SELECT * FROM morgenmigrate.migrate_apply('$strings')");
like($err, qr/${strings_error}DETAIL:  \Q$strings_detail\E\nHINT:  \Q$strings_hint\E\nCONTEXT:  migration "002_paths_windows\.sql", line 2\n/,
	'strings, all or nothing with retries: the migration\'s own error');
is(recorded(), "\n", 'strings, all or nothing with retries: nothing is recorded');

# atomic => false: the failed row, the failure recorded
($rc, $out, $err) = call("SET morgenmigrate.lock_retries = 0; SELECT filename, status FROM morgenmigrate.migrate_apply('$strings', atomic => false)");
is($rc, 0, 'strings, atomic => false: the call returns');
is($out, "001_paths.sql|applied\n002_paths_windows.sql|failed", 'strings, atomic => false: the applied and the failed file');
like($err, qr/WARNING:  01000: migration "002_paths_windows\.sql" failed: migration "002_paths_windows\.sql" changed standard_conforming_strings\nDETAIL:  SQLSTATE 0A000, line 2\./,
	'strings, atomic => false: the warning names the SQLSTATE and the line');
is(recorded(), "001_paths.sql applied\n$strings_failure",
	'strings, atomic => false: the first file applied, the failure recorded as it was');
reset_set();

# migrate_run, statement by statement: the setting holds after the first
# statement's commit
($rc, $out, $err) = call("CALL morgenmigrate.migrate_run('$strings_steps')");
isnt($rc, 0, 'strings, migrate_run: the call fails');
like($err, qr/${strings_error}DETAIL:  \Q$strings_detail\E\nHINT:  \Q$strings_hint\E\nCONTEXT:  migration "002_paths_windows\.sql", line 2\n/,
	'strings, migrate_run: the migration\'s own error, detail, hint and line');
unlike($err, qr/unterminated|nonstandard use/, 'strings, migrate_run: nothing of the explanation shows');
is(recorded(), "001_paths.sql applied\n$strings_failure",
	'strings, migrate_run: the first file applied, the failure recorded as it was');
is($node->safe_psql('app', q{SELECT count(*) FROM pg_indexes WHERE indexname = 'paths_p'}), '0',
	'strings, migrate_run: the statements after the failure did not run');
reset_set();

# --- a drift row whose identity does not scan
# first, the explanation as it is: the failure names the hand-made table
my $check_error = qr/ERROR:  23514: new row for relation "hand_made" violates check constraint "hand_made_positive"\n/;
($rc, $out, $err) = call("SELECT * FROM morgenmigrate.migrate_apply('$check')");
like($err, qr/${check_error}DETAIL:  Failing row contains \(-1\)\.  The schema was changed outside the migrations, on what this statement names: CREATE TABLE public\.hand_made by postgres at [^\n]*\.\nCONTEXT:  migration "002_hand_made_positive\.sql", line 2\n/,
	'unplanted: the error names the drift on its table');

# a role granted INSERT on the drift table plants a row
$node->safe_psql('app', q{
	CREATE ROLE planter LOGIN;
	GRANT USAGE ON SCHEMA morgenmigrate TO planter;
	GRANT INSERT ON morgenmigrate.drift TO planter;
	GRANT USAGE ON SEQUENCE morgenmigrate.drift_id_seq TO planter;});
$node->safe_psql('app', q{
	INSERT INTO morgenmigrate.drift (recorded_at, user_name, session_user_name, command_tag, object_identity)
	VALUES (now(), 'planter', 'planter', 'ALTER TABLE', 'public.hand_made''')},
	connstr => $node->connstr('app') . ' user=planter');

my $check_failure = '002_hand_made_positive.sql|23514|new row for relation "hand_made" violates check constraint "hand_made_positive"|Failing row contains (-1).||2';
for my $case (
	[ 'all or nothing', '', "SELECT * FROM morgenmigrate.migrate_apply('$check')" ],
	[ 'all or nothing without retries', 'SET morgenmigrate.lock_retries = 0; ',
		"SELECT * FROM morgenmigrate.migrate_apply('$check')" ])
{
	my ($label, $set, $sql) = @$case;
	($rc, $out, $err) = call($set . $sql);
	isnt($rc, 0, "planted, $label: the call fails");
	like($err, qr/${check_error}DETAIL:  Failing row contains \(-1\)\.\nCONTEXT:  migration "002_hand_made_positive\.sql", line 2\n/,
		"planted, $label: the migration's own error, detail and line, unexplained");
	unlike($err, qr/unterminated/, "planted, $label: nothing of the explanation shows");
	is(recorded(), "\n", "planted, $label: nothing is recorded");
	is($node->safe_psql('app', q{SELECT to_regclass('ids') IS NULL}), 't', "planted, $label: nothing stays");
}

# what the explanation ran into is a DEBUG line, nothing more
($rc, $out, $err) = call("SET client_min_messages = debug1; SELECT * FROM morgenmigrate.migrate_apply('$check')");
like($err, qr/DEBUG:  00000: could not explain the migration's error by drift: unterminated quoted string at or near "'"\n.*${check_error}DETAIL:  Failing row contains \(-1\)\.\nCONTEXT:  migration "002_hand_made_positive\.sql", line 2\n/s,
	'planted: at client_min_messages debug1, a DEBUG line says why the error is not explained');

($rc, $out, $err) = call("SELECT filename, status FROM morgenmigrate.migrate_apply('$check', atomic => false)");
is($rc, 0, 'planted, atomic => false: the call returns');
is($out, "001_hand_made_ids.sql|applied\n002_hand_made_positive.sql|failed",
	'planted, atomic => false: the applied and the failed file');
like($err, qr/WARNING:  01000: migration "002_hand_made_positive\.sql" failed: new row for relation "hand_made" violates check constraint "hand_made_positive"\nDETAIL:  SQLSTATE 23514, line 2\./,
	'planted, atomic => false: the warning names the SQLSTATE and the line');
is(recorded(), "001_hand_made_ids.sql applied\n$check_failure",
	'planted, atomic => false: the first file applied, the failure recorded as it was');
reset_set();

($rc, $out, $err) = call("CALL morgenmigrate.migrate_run('$check')");
isnt($rc, 0, 'planted, migrate_run: the call fails');
like($err, qr/${check_error}DETAIL:  Failing row contains \(-1\)\.\nCONTEXT:  migration "002_hand_made_positive\.sql", line 2\n/,
	'planted, migrate_run: the migration\'s own error, detail and line, unexplained');
is(recorded(), "001_hand_made_ids.sql applied\n$check_failure",
	'planted, migrate_run: the first file applied, the failure recorded as it was');

$node->stop;
done_testing();
