# A directory's proof, from the directory's side, across the runners'
# layouts: after a change to the directory (or the path it is named by),
# a call must answer as the same call answers without the proof.  Each case
# has its own database and directory; the proof is kept, a call is shown to
# answer from it, then the directory is changed and migrate_apply is called
# twice in new sessions, each in a transaction rolled back: once as it is,
# once with the proof deleted (DELETE FROM morgenmigrate.file_fingerprints
# WHERE filename = ''), and what the two return, warn and raise is compared
# (the method of 068).
#
# Tried by this probe, with no difference found: files written through a
# hard link from outside, rewritten in place with the same size, replaced
# by a new file (whose inode number may be the old one's), their
# modification time set back with utime each time; chmod 000 on a file and
# on the directory; hidden and editor files; a down file without its up
# file; the path given with a trailing slash, "//" and "/./", and through a
# symbolic link; the nine layouts (a golang-migrate down file removed, a
# goose .go migration added, a Flyway repeatable script and a script's
# config file edited, a postgrator undo file without its do file, dbmate,
# node-pg-migrate and sql-migrate files added out of order or edited,
# diesel never keeping a proof); morgenmigrate.layout set for the database;
# migrate_forget, migrate_rollback and migrate_baseline before the call;
# migrate_run.  As root (not here): a bind mount of a copy of the directory
# over it, and of the directory over itself.  One difference was found and
# is mended (the last cases): a call that warned while reading its files
# kept a proof, and later calls answered silently.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../perl";
use MorgenmigrateTest qw(write_old_file proof_way);

my $node = PostgreSQL::Test::Cluster->new('dirproof_layouts');
$node->init;
$node->start;

my $base = PostgreSQL::Test::Utils::tempdir();


# The cases: name => [files, database setup].
my %cases;

# A case: its own database (with $setup run in it) and directory.
sub make_case
{
	my ($name, $files, $setup) = @_;
	my $dir = "$base/$name";
	mkdir $dir or die "$dir: $!";
	foreach my $f (sort keys %$files)
	{
		if ($f =~ m{^(.*)/})
		{
			mkdir "$dir/$1" unless -d "$dir/$1";
		}
		write_old_file("$dir/$f", $files->{$f});
	}
	$node->safe_psql('postgres', "CREATE DATABASE $name");
	$node->safe_psql($name, 'CREATE EXTENSION morgenmigrate');
	$node->safe_psql($name, $setup) if $setup;
	$cases{$name} = $dir;
	return $dir;
}

sub apply_sql
{
	my ($dir) = @_;
	return "SELECT string_agg(filename, ' ') FROM morgenmigrate.migrate_apply('$dir')";
}

# A new session's call in $db, in a transaction rolled back after it, with
# $pre run first in the same transaction: (the way it went, what it
# answered: the files it applied and its WARNING, NOTICE and ERROR lines).
sub call
{
	my ($db, $pre, $select) = @_;
	my ($rc, $out, $err) = $node->psql($db,
		"BEGIN;\n$pre\nSET LOCAL client_min_messages = debug1;\n$select;\nROLLBACK;\n",
		on_error_stop => 0);
	my $way = proof_way($err);
	my @said = grep { /^(?:psql:[^ ]* )?(WARNING|NOTICE|ERROR|DETAIL):/ } split /\n/, $err;
	s/^psql:[^ ]* // for @said;
	return ($way, "applied: $out\n" . join("\n", @said));
}

# A new session's call that stays (committed): the way it went.
sub keep
{
	my ($db, $select) = @_;
	my ($rc, $out, $err) = $node->psql($db,
		"SET client_min_messages = debug1;\n$select;\n");
	die "call failed: $err" if $rc != 0;
	return proof_way($err) eq 'long' ? "long:$out" : proof_way($err);
}

# After a change: the call answers as the same call without the proof.
# Returns the answer, for the case to check it shows the change.
sub same_answer
{
	my ($name, $db, $select, $pre) = @_;
	$pre //= '';
	my ($way, $with) = call($db, $pre, $select);
	my (undef, $without) = call($db,
		"$pre\nDELETE FROM morgenmigrate.file_fingerprints WHERE filename = '';",
		$select);
	is($with, $without, "$name: the call answers as the long way answers");
	return ($way, $with);
}

# --- the cases' directories ---
my $t1 = "CREATE TABLE one (id int);\n";
my $t2 = "CREATE TABLE two (id int);\n";

make_case('hardlink', { '001_one.sql' => $t1, '002_two.sql' => $t2 });
link("$base/hardlink/001_one.sql", "$base/outside_link") or die "link: $!";
make_case('inplace', { '001_one.sql' => $t1, '002_two.sql' => $t2 });
make_case('replaced', { '001_one.sql' => $t1, '002_two.sql' => $t2 });
make_case('chmod_file', { '001_one.sql' => $t1, '002_two.sql' => $t2 });
make_case('chmod_dir', { '001_one.sql' => $t1, '002_two.sql' => $t2 });
make_case('hidden',
	{ '001_one.sql' => $t1, '002_two.sql' => $t2, 'README.md' => "notes\n",
	  '.gitkeep' => '' });
make_case('orphan', { '001_one.sql' => $t1, '002_two.sql' => $t2 });
make_case('paths', { '001_one.sql' => $t1, '002_two.sql' => $t2 });
make_case('symlink', { '001_one.sql' => $t1, '002_two.sql' => $t2 });
symlink("$base/symlink", "$base/symlink_path") or die "symlink: $!";
make_case('golang', {
	'1_one.up.sql' => $t1, '1_one.down.sql' => "DROP TABLE one;\n",
	'2_two.up.sql' => $t2, '2_two.down.sql' => "DROP TABLE two;\n" });
make_case('goose', {
	'00001_one.sql' => "-- +goose Up\n$t1-- +goose Down\nDROP TABLE one;\n",
	'00002_two.sql' => "-- +goose Up\n$t2-- +goose Down\nDROP TABLE two;\n" });
make_case('flyway', {
	'V1__one.sql' => $t1, 'V2__two.sql' => $t2,
	'V2__two.sql.conf' => "executeInTransaction=true\n",
	'R__view.sql' => "CREATE OR REPLACE VIEW v AS SELECT 1 AS a;\n" });
make_case('postgrator', {
	'001.do.one.sql' => $t1, '001.undo.one.sql' => "DROP TABLE one;\n",
	'002.do.two.sql' => $t2 });
make_case('dbmate', {
	'20240101000000_one.sql' => "-- migrate:up\n$t1\n-- migrate:down\nDROP TABLE one;\n",
	'20240103000000_two.sql' => "-- migrate:up\n$t2\n-- migrate:down\nDROP TABLE two;\n" });
make_case('nodepg', {
	'1700000000000_one.sql' => "-- Up Migration\n$t1-- Down Migration\nDROP TABLE one;\n",
	'1700000000002_two.sql' => "-- Up Migration\n$t2-- Down Migration\nDROP TABLE two;\n" });
make_case('sqlmigrate', {
	'1_one.sql' => "-- +migrate Up\n$t1-- +migrate Down\nDROP TABLE one;\n",
	'3_two.sql' => "-- +migrate Up\n$t2-- +migrate Down\nDROP TABLE two;\n" });
make_case('diesel', {
	'2024-01-01-000000_one/up.sql' => $t1,
	'2024-01-01-000000_one/down.sql' => "DROP TABLE one;\n" });
make_case('forced', { '1_one.up.sql' => $t1, '2_two.up.sql' => $t2 },
	"ALTER DATABASE forced SET morgenmigrate.layout = 'golang-migrate'");
make_case('history', { '001_one.sql' => $t1, '002_two.sql' => $t2,
	'002_two.down.sql' => "DROP TABLE two;\n" });
make_case('baseline', { '001_one.sql' => $t1, '002_two.sql' => $t2 });
make_case('run', { '001_one.sql' => $t1, '002_two.sql' => $t2 });

# Lets every time of the sets lie more than two seconds in the past.
sleep 3;

# --- keep each case's proof, and show a call answers from it ---
is(keep('baseline', "SELECT morgenmigrate.migrate_baseline('$cases{baseline}')"),
	'long:2', 'baseline: the set is recorded as a baseline');
is(keep('run', "CALL morgenmigrate.migrate_run('$cases{run}')"), 'long:',
	'run: migrate_run applies the set');
is(keep('run', "CALL morgenmigrate.migrate_run('$cases{run}')"), 'long:',
	'run: the next migrate_run reads the files and keeps their fingerprints');
is(keep('run', "CALL morgenmigrate.migrate_run('$cases{run}')"), 'kept',
	'run: the next migrate_run keeps the proof');
is(keep('run', "CALL morgenmigrate.migrate_run('$cases{run}')"), 'proof',
	'run: and the next answers from it');
foreach my $name (sort keys %cases)
{
	next if $name eq 'run';
	my $dir = $cases{$name};
	my $sel = $name eq 'symlink' ? apply_sql("$base/symlink_path") : apply_sql($dir);
	my $first = keep($name, $sel);
	like($first, $name eq 'baseline' ? qr/^long:$/ : qr/^long:\S/,
		"$name: the first call applies the set (of a baseline, reads it)");
	if ($name eq 'diesel')
	{
		is(keep($name, $sel), 'long:', 'diesel: a directory of subdirectories keeps no proof');
		next;
	}
	if ($name ne 'baseline')
	{
		is(keep($name, $sel), 'long:', "$name: the next reads the files, keeping their fingerprints");
	}
	is(keep($name, $sel), 'kept', "$name: the next keeps the proof");
	my ($way) = call($name, '', $sel);
	is($way, 'proof', "$name: before the change, the call answers from the proof");
}

# --- the changes ---
my ($way, $answer);

# written through a hard link from outside, same size, time set back
write_old_file("$base/outside_link", "CREATE TABLE uno (id int);\n");
($way, $answer) = same_answer('hard link written from outside', 'hardlink',
	apply_sql($cases{hardlink}));
like($answer, qr/has changed/, 'hard link: the edit is seen');

# rewritten in place (truncated), same size, time set back
write_old_file("$cases{inplace}/002_two.sql", "CREATE TABLE owt (id int);\n");
($way, $answer) = same_answer('rewritten in place, same size and time', 'inplace',
	apply_sql($cases{inplace}));
like($answer, qr/has changed/, 'rewritten in place: the edit is seen');

# removed and written again (the inode number may come back), same size
unlink "$cases{replaced}/002_two.sql" or die;
write_old_file("$cases{replaced}/002_two.sql", "CREATE TABLE owt (id int);\n");
($way, $answer) = same_answer('removed and written again', 'replaced',
	apply_sql($cases{replaced}));
like($answer, qr/has changed/, 'written again: the edit is seen');

# chmod 000 on a file, then on the directory
chmod 0000, "$cases{chmod_file}/001_one.sql" or die;
same_answer('chmod 000 on a file', 'chmod_file', apply_sql($cases{chmod_file}));
chmod 0644, "$cases{chmod_file}/001_one.sql";
chmod 0000, $cases{chmod_dir} or die;
($way, $answer) = same_answer('chmod 000 on the directory', 'chmod_dir',
	apply_sql($cases{chmod_dir}));
like($answer, qr/ERROR/, 'chmod 000 on the directory: the call fails');
chmod 0755, $cases{chmod_dir};

# hidden and editor files come and go
write_old_file("$cases{hidden}/.001_one.sql.swp", "swap\n");
write_old_file("$cases{hidden}/001_one.sql~", "backup\n");
unlink "$cases{hidden}/.gitkeep" or die;
same_answer('hidden and editor files', 'hidden', apply_sql($cases{hidden}));

# a down file without its up file
write_old_file("$cases{orphan}/009_nine.down.sql", "SELECT 1;\n");
($way, $answer) = same_answer('down file without its up file', 'orphan',
	apply_sql($cases{orphan}));
like($answer, qr/has no up migration/, 'orphan down file: the call warns');

# the path given otherwise, then a file added
foreach my $path ("$cases{paths}/", "$base//paths", "$base/./paths")
{
	($way) = call('paths', '', apply_sql($path));
	is($way, 'proof', "path \"$path\" is the directory's: it answers from the proof");
}
write_old_file("$cases{paths}/003_three.sql", "CREATE TABLE three (id int);\n");
foreach my $path ("$cases{paths}/", "$base//paths", "$base/./paths")
{
	($way, $answer) = same_answer("path \"$path\" after a file is added", 'paths',
		apply_sql($path));
	like($answer, qr/003_three\.sql/, "path \"$path\": the new file applies");
}

# through a symbolic link, its target changed
write_old_file("$cases{symlink}/003_three.sql", "CREATE TABLE three (id int);\n");
($way, $answer) = same_answer('through a link, a file added', 'symlink',
	apply_sql("$base/symlink_path"));
like($answer, qr/003_three\.sql/, 'through a link: the new file applies');

# golang-migrate: a down file removed (nothing to say), another without its up
unlink "$cases{golang}/2_two.down.sql" or die;
($way, $answer) = same_answer('golang-migrate: a down file removed', 'golang',
	apply_sql($cases{golang}));
write_old_file("$cases{golang}/3_three.down.sql", "SELECT 1;\n");
same_answer('golang-migrate: a down file without its up file', 'golang',
	apply_sql($cases{golang}));

# goose: a Go migration added
write_old_file("$cases{goose}/00003_three.go", "package migrations\n");
($way, $answer) = same_answer('goose: a Go migration added', 'goose',
	apply_sql($cases{goose}));
like($answer, qr/ERROR/, 'goose: the Go migration is refused');

# Flyway: a script's config edited, the repeatable script edited
write_old_file("$cases{flyway}/V2__two.sql.conf", "executeInTransaction=TRUE\n");
same_answer('flyway: a config file edited', 'flyway', apply_sql($cases{flyway}));
write_old_file("$cases{flyway}/R__view.sql", "CREATE OR REPLACE VIEW v AS SELECT 2 AS a;\n");
($way, $answer) = same_answer('flyway: the repeatable script edited', 'flyway',
	apply_sql($cases{flyway}));
like($answer, qr/R__view\.sql/, 'flyway: the repeatable script runs again');

# postgrator: an undo file without its do file
write_old_file("$cases{postgrator}/003.undo.three.sql", "SELECT 1;\n");
same_answer('postgrator: an undo file without its do file', 'postgrator',
	apply_sql($cases{postgrator}));

# dbmate: a migration older than the applied ones
write_old_file("$cases{dbmate}/20240102000000_mid.sql",
	"-- migrate:up\nCREATE TABLE mid (id int);\n-- migrate:down\nDROP TABLE mid;\n");
($way, $answer) = same_answer('dbmate: a migration added out of order', 'dbmate',
	apply_sql($cases{dbmate}));
like($answer, qr/out of order/, 'dbmate: the call warns');

# node-pg-migrate: an applied file edited in place, same size and time
write_old_file("$cases{nodepg}/1700000000002_two.sql",
	"-- Up Migration\nCREATE TABLE owt (id int);\n-- Down Migration\nDROP TABLE two;\n");
($way, $answer) = same_answer('node-pg-migrate: an applied file edited', 'nodepg',
	apply_sql($cases{nodepg}));
like($answer, qr/has changed/, 'node-pg-migrate: the edit is seen');

# sql-migrate: a migration older than the applied ones
write_old_file("$cases{sqlmigrate}/2_mid.sql",
	"-- +migrate Up\nCREATE TABLE mid (id int);\n-- +migrate Down\nDROP TABLE mid;\n");
($way, $answer) = same_answer('sql-migrate: a migration added out of order', 'sqlmigrate',
	apply_sql($cases{sqlmigrate}));
like($answer, qr/2_mid\.sql/, 'sql-migrate: the new file applies');

# the layout set for the database: a file it skips, then one it reads
write_old_file("$cases{forced}/seed.sql", "CREATE TABLE seed (id int);\n");
($way, $answer) = same_answer('layout set: a file it skips added', 'forced',
	apply_sql($cases{forced}));
write_old_file("$cases{forced}/3_three.up.sql", "CREATE TABLE three (id int);\n");
($way, $answer) = same_answer('layout set: a file it reads added', 'forced',
	apply_sql($cases{forced}));
like($answer, qr/3_three\.up\.sql/, 'layout set: the new file applies');

# the history changed by the extension's own functions (no file changed)
($way, $answer) = same_answer('migrate_forget before the call', 'history',
	apply_sql($cases{history}),
	"SELECT morgenmigrate.migrate_forget('002_two.sql');\nDROP TABLE two;");
like($answer, qr/002_two\.sql/, 'migrate_forget: the file applies again');
($way, $answer) = same_answer('migrate_rollback before the call', 'history',
	apply_sql($cases{history}),
	"SELECT count(*) FROM morgenmigrate.migrate_rollback('$cases{history}');");
same_answer('migrate_baseline again before the call', 'baseline',
	apply_sql($cases{baseline}),
	"SELECT morgenmigrate.migrate_baseline('$cases{baseline}');");
write_old_file("$cases{baseline}/003_three.sql", "CREATE TABLE three (id int);\n");
($way, $answer) = same_answer('a baseline\'s directory, a file added', 'baseline',
	apply_sql($cases{baseline}));
like($answer, qr/003_three\.sql/, 'baseline: the new file applies');

# migrate_run: a file added is applied, not answered from the proof
write_old_file("$cases{run}/003_three.sql", "CREATE TABLE three (id int);\n");
is(keep('run', "CALL morgenmigrate.migrate_run('$cases{run}')"), 'long:',
	'run: migrate_run after a file is added goes the long way');
is($node->safe_psql('run', 'SELECT count(*) FROM morgenmigrate.schema_migrations'),
	'3', 'run: and applies it');

# A call that warned while it only read its files (not ran them) keeps no
# proof: with standard_conforming_strings off, the server's parser warns of
# a backslash in a string when a Flyway script that names a statement
# Flyway runs outside a transaction ("concurrently", even in a comment) is
# parsed for its transaction mode, or a goose section with a rule for its
# statement ends.  migrate_run kept no fingerprints, so each of its calls
# read the files and warned again; a proof kept by the call that warned
# made the next call silent.  Now a call that read a file keeps no proof,
# and migrate_run keeps the fingerprints of the files it read.
foreach my $c (
	[ 'flyway_bs', 'V1__one.sql' => "CREATE TABLE one (a text DEFAULT 'x\\\\y');\n"
		  . "-- no index is built concurrently here\n" ],
	[ 'goose_bs', '00001_one.sql' => "-- +goose Up\n"
		  . "CREATE TABLE one (a text DEFAULT 'x\\\\y');\n"
		  . "CREATE RULE one_r AS ON INSERT TO one DO ALSO NOTIFY one;\n" ])
{
	my ($name, $file, $text) = @$c;
	my $dir = make_case($name, { $file => $text },
		"ALTER DATABASE $name SET standard_conforming_strings = off");
	my $run = "CALL morgenmigrate.migrate_run('$dir')";
	sleep 3;
	is(keep($name, $run), 'long:', "$name: migrate_run applies the set");
	my ($rc, $out, $err) = $node->psql($name,
		"SET client_min_messages = debug1;\n$run;\n");
	like($err, qr/WARNING:  nonstandard use of \\\\ in a string literal/,
		"$name: the next migrate_run warns while it reads the file");
	unlike($err, qr/kept the proof/, "$name: and keeps no proof");
	# migrate_apply, in a transaction rolled back (migrate_run cannot)
	my ($with) = (call($name, '', apply_sql($dir)))[1];
	my ($without) = (call($name,
		"DELETE FROM morgenmigrate.file_fingerprints WHERE filename = '';",
		apply_sql($dir)))[1];
	is($with, $without, "$name: a later call answers as the long way answers");
	unlike($with, qr/nonstandard use/,
		"$name: later calls read no file (its fingerprint is kept), and say nothing either way");
	is(keep($name, $run), 'kept', "$name: the next migrate_run keeps the proof");
	($with) = (call($name, '', apply_sql($dir)))[1];
	($without) = (call($name,
		"DELETE FROM morgenmigrate.file_fingerprints WHERE filename = '';",
		apply_sql($dir)))[1];
	is($with, $without, "$name: a call from the proof answers as the long way answers");
}

unlink "$base/outside_link";
$node->stop;
done_testing();
