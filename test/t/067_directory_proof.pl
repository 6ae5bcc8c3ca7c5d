# A migrate_apply that found nothing to do keeps a proof of its directory
# (the row of morgenmigrate.file_fingerprints with an empty file name),
# and a later session whose directory, history and settings are all as
# they were answers "nothing to do" from it without reading the history's
# rows one by one.  Anything that could change that answer makes the call
# go the long way: a file added, removed, edited, chmod-ed or replaced; a
# history row deleted or changed (by a transaction still open when the
# proof was kept, too); a failure recorded; another setting, another role,
# another directory behind the same path.  A call that must say something
# (a missing file) keeps no proof, nor does a call whose files are too new
# to be told apart from a later write, nor one over a link.
#
# Which way a call went shows by its DEBUG1 messages: "are as when a call
# last found nothing to do" (the proof stood) and "kept the proof".
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../perl";
use MorgenmigrateTest qw(write_old_file proof_way);

my $node = PostgreSQL::Test::Cluster->new('dirproof');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION morgenmigrate');

my $base = PostgreSQL::Test::Utils::tempdir();
my $dir = "$base/set";
mkdir $dir or die;
my $old = time() - 3600;


for my $i (1 .. 5)
{
	write_old_file(sprintf("%s/%03d_t%d.sql", $dir, $i, $i),
		"CREATE TABLE IF NOT EXISTS t$i (id int);\n");
}
# a file over 1 kB, for morgenmigrate.max_file_size below
write_old_file("$dir/006_big.sql",
	"CREATE TABLE IF NOT EXISTS big (id int);\n" . ('-- padding' . ' ' x 70 . "\n") x 20);

# A new session's migrate_apply with DEBUG1 messages: (rc, the files it
# applied, joined by spaces, its messages).
sub call
{
	my ($args, $pre) = @_;
	$args //= "'$dir'";
	$pre //= '';
	my ($rc, $out, $err) = $node->psql('postgres',
		"SET client_min_messages = debug1;\n$pre"
		  . "SELECT string_agg(filename, ' ') FROM morgenmigrate.migrate_apply($args)");
	return ($rc, $out, $err);
}

# The way a call went: "proof" (it stood), "kept" (the long way, and a
# proof kept), "long" (the long way, no proof kept), with the files it
# applied.
sub way
{
	my ($rc, $out, $err) = call(@_);
	die "migrate_apply failed: $err" if $rc != 0;
	my $way = proof_way($err);
	return "$way:$out";
}

# Lets every time of the set lie more than two seconds in the past.
sub settle { sleep 3; }

# After a change: lets the times settle, then a call reads what changed
# (and keeps its fingerprint) and the next keeps a proof; or the first
# already keeps one, where nothing had to be read.  The way of the last.
sub reprove
{
	settle();
	my $way = way();
	$way = way() if $way eq 'long:';
	return $way;
}

# The history and the failures, for "nothing changed".
sub history
{
	return $node->safe_psql('postgres',
		"SELECT string_agg(filename || ' ' || checksum, ',' ORDER BY filename)"
		  . " FROM morgenmigrate.schema_migrations")
	  . '|' . $node->safe_psql('postgres',
		"SELECT count(*) FROM morgenmigrate.migration_errors");
}

settle();
is(way(), 'long:001_t1.sql 002_t2.sql 003_t3.sql 004_t4.sql 005_t5.sql 006_big.sql',
	'the first call applies the set, and keeps no proof');
is(way(), 'long:', 'the next finds nothing to do; it read the files, so it keeps their fingerprints and no proof');
is(way(), 'kept:', 'the next reads none, and keeps the proof');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM morgenmigrate.file_fingerprints WHERE filename = '' AND directory = '$dir'"),
	'1', 'the proof is the row of the directory with an empty file name');
is(way(), 'proof:', 'a new session answers from the proof');
is(way(), 'proof:', 'and the next');
like($node->safe_psql('postgres', "SELECT string_agg(filename || ':' || state, ' ' ORDER BY filename)"
		  . " FROM morgenmigrate.migrate_status('$dir')"),
	qr/^001_t1.sql:applied .* 006_big.sql:applied$/, 'migrate_status is as it was');

# (1) files
write_old_file("$dir/007_t7.sql", "CREATE TABLE IF NOT EXISTS t7 (id int);\n");
is(way(), 'long:007_t7.sql', 'a file added is applied');
# its modification time an hour ahead: never clearly older than a call,
# like a file written a moment ago (whose change time is now), but
# whatever the machine's speed
utime time() + 3600, time() + 3600, "$dir/007_t7.sql" or die;
settle();
is(way(), 'long:', 'a file too new to be told apart from a later write: no proof');
is(way(), 'long:', 'nor later');
utime $old, $old, "$dir/007_t7.sql" or die;
settle();
is(way(), 'long:', 'once its times are two seconds old, a call reads it and keeps its fingerprint');
is(way(), 'kept:', 'and the next keeps the proof');
is(way(), 'proof:', 'and stands');

my $before = history();
write_old_file("$dir/003_t3.sql", "CREATE TABLE IF NOT EXISTS tX (id int);\n");
my ($rc, $out, $err) = call();
like($err, qr/ERROR:  1 applied migration has changed since it was applied\nDETAIL:  Changed: 003_t3\.sql\./,
	'an edit of the same size and modification time is refused');
is(history(), $before, 'and the history is as it was');
write_old_file("$dir/003_t3.sql", "CREATE TABLE IF NOT EXISTS t3 (id int);\n");
# the long way (which keeps a proof if the machine was slow enough for
# the call to begin 2 s after the write, hence either), never the proof
like(way(), qr/^(long|kept):$/, 'the file as it was: nothing to do, the long way');
like(reprove(), qr/^(kept|proof):$/, 'a proof again');

chmod 0600, "$dir/002_t2.sql" or die;
like(way(), qr/^(long|kept):$/, 'a chmod (a new change time): the long way');
chmod 0644, "$dir/002_t2.sql" or die;
like(reprove(), qr/^(kept|proof):$/, 'a proof again');

write_old_file("$dir/004_t4.new", "CREATE TABLE IF NOT EXISTS t4 (id int);\n");
rename("$dir/004_t4.new", "$dir/004_t4.sql") or die;
like(way(), qr/^(long|kept):$/, 'the same text renamed into place (another inode): the long way');

rename("$dir/005_t5.sql", "$base/005_t5.sql") or die;
($rc, $out, $err) = call();
like($err, qr/WARNING:  1 applied migration is missing from the directory/,
	'a file removed: the call warns');
unlike($err, qr/kept the proof/, 'and keeps no proof');
settle();
($rc, $out, $err) = call();
like($err, qr/WARNING:  1 applied migration is missing/, 'nor later: it warns again');
unlike($err, qr/kept the proof|are as when/, 'never from a proof');
rename("$base/005_t5.sql", "$dir/005_t5.sql") or die;
is(reprove(), 'kept:', 'the file back: proof kept again');

# (2) the history
$node->safe_psql('postgres',
	"DELETE FROM morgenmigrate.schema_migrations WHERE filename = '002_t2.sql'");
is(way(), 'long:002_t2.sql', 'a history row deleted: the file applies again');
is(way(), 'kept:', 'proof kept again');

$node->safe_psql('postgres',
	"UPDATE morgenmigrate.schema_migrations SET checksum = repeat('0', 64) WHERE filename = '001_t1.sql'");
$before = history();
($rc, $out, $err) = call();
like($err, qr/ERROR:  1 applied migration has changed since it was applied\nDETAIL:  Changed: 001_t1\.sql\./,
	'a checksum changed in the history: the file is refused as changed');
is(history(), $before, 'and the history is as it was');
$node->safe_psql('postgres',
	"UPDATE morgenmigrate.schema_migrations SET checksum ="
	  . " encode(sha256(pg_read_binary_file('$dir/001_t1.sql')), 'hex') WHERE filename = '001_t1.sql'");
is(way(), 'proof:', 'the row put back as it was: the proof kept before stands again');

$node->safe_psql('postgres',
	"INSERT INTO morgenmigrate.migration_errors (filename, failed_at, sqlstate, message)"
	  . " VALUES ('zzz.sql', now(), '42P01', 'x')");
isnt(way(), 'proof:', 'a failure recorded: not from the proof');
$node->safe_psql('postgres', "DELETE FROM morgenmigrate.migration_errors");
is(way(), 'kept:', 'proof kept again');

# a transaction still open when a proof is used, or kept, deletes a
# history row and commits afterwards: the next call sees it
my $other = $node->background_psql('postgres');
$other->query_safe("BEGIN");
$other->query_safe(
	"DELETE FROM morgenmigrate.schema_migrations WHERE filename = '004_t4.sql'");
is(way(), 'proof:', 'an uncommitted delete: the proof stands for what the call sees');
$other->query_safe("COMMIT");
is(way(), 'long:004_t4.sql', 'committed: the file applies again');

$node->safe_psql('postgres',
	"DELETE FROM morgenmigrate.file_fingerprints WHERE filename = ''");
$other->query_safe("BEGIN");
$other->query_safe(
	"DELETE FROM morgenmigrate.schema_migrations WHERE filename = '003_t3.sql'");
is(way(), 'kept:', 'a proof kept while a delete is not yet committed');
$other->query_safe("COMMIT");
is(way(), 'long:003_t3.sql', 'committed after the proof: the file applies again');
is(way(), 'kept:', 'proof kept again');
$other->quit;

# the same rows written again (as a data-only restore does): the same
# history, the same answer
$node->safe_psql('postgres', q{
	CREATE TEMP TABLE saved AS SELECT * FROM morgenmigrate.schema_migrations;
	DELETE FROM morgenmigrate.schema_migrations;
	INSERT INTO morgenmigrate.schema_migrations SELECT * FROM saved;
});
is(way(), 'proof:', 'the same rows written again: the proof stands');

# (3) settings, role
is(way(undef, "SET morgenmigrate.lock_timeout = '5s';\n"), 'kept:',
	'another setting: the long way, which keeps a proof under it');
is(way(undef, "SET morgenmigrate.lock_timeout = '5s';\n"), 'proof:', 'which stands under it');
is(way(), 'kept:', 'and not under the default: the long way');
($rc, $out, $err) = call(undef, "SET morgenmigrate.max_file_size = 1;\n");
like($err, qr/ERROR:  .*006_big\.sql/, 'a smaller max_file_size refuses the big file, proof or not');
$node->safe_psql('postgres', 'CREATE ROLE other SUPERUSER LOGIN');
is(way(undef, "SET ROLE other;\n"), 'kept:', 'another role: the long way');
is(way(), 'kept:', 'and back: the long way again');

# (4) calls that never use a proof
for my $args ("'$dir', dry_run => true", "'$dir', target => '007'",
	"'$dir', steps => 1", "'$dir', schemas => '{public}'")
{
	my ($rc, $out, $err) = call($args);
	unlike($err, qr/are as when a call|kept the proof/, "migrate_apply($args) does not use a proof");
}

# (5) migrate_run (a pg_cron job's call) keeps and uses the same proof
sub run_way
{
	my ($rc, $out, $err) = $node->psql('postgres',
		"SET client_min_messages = debug1;\nCALL morgenmigrate.migrate_run('$dir');\n"
		  . "SELECT count(*) FROM morgenmigrate.schema_migrations");
	die "migrate_run failed: $err" if $rc != 0;
	return (proof_way($err)) . ":$out";
}
my $rows = $node->safe_psql('postgres', "SELECT count(*) FROM morgenmigrate.schema_migrations");
$node->safe_psql('postgres',
	"DELETE FROM morgenmigrate.file_fingerprints WHERE filename = ''");
is(run_way(), "kept:$rows", 'migrate_run with nothing to do keeps the proof');
is(run_way(), "proof:$rows", 'and the next migrate_run answers from it');
is(way(), 'proof:', 'as does migrate_apply');
$node->safe_psql('postgres',
	"DELETE FROM morgenmigrate.schema_migrations WHERE filename = '005_t5.sql'");
is(run_way(), "long:$rows", 'a history row deleted: migrate_run applies the file again');
is(run_way(), "kept:$rows", 'and keeps the proof again');

# (5) a directory behind a link, the link turned to a copy: other inodes
my $copy = "$base/copy";
mkdir $copy or die;
for my $f (glob("$dir/*.sql"))
{
	(my $name = $f) =~ s{.*/}{};
	open my $in, '<', $f or die;
	local $/;
	write_old_file("$copy/$name", <$in>);
}
symlink($dir, "$base/current") or die;
settle();
is(way("'$base/current'"), 'long:', 'through a link to the set: the first call reads the files (a fingerprint is per path)');
is(way("'$base/current'"), 'kept:', 'the next keeps the proof');
is(way("'$base/current'"), 'proof:', 'and stands');
unlink("$base/current") or die;
symlink($copy, "$base/current") or die;
is(way("'$base/current'"), 'long:', 'the link turned to a copy of the set: the long way, reading the copy');

# (6) a link in the directory: never a proof
symlink("$dir/001_t1.sql", "$copy/000_link.sql") or die;
settle();
($rc, $out, $err) = call("'$copy'");
unlike($err, qr/kept the proof/, 'a directory with a link keeps no proof');
($rc, $out, $err) = call("'$copy'");
unlike($err, qr/are as when a call|kept the proof/, 'nor uses one');

$node->stop;
done_testing();
