# What a migrate_apply proved of a file (its fingerprint: device, inode,
# size, times, checksum and sections, in morgenmigrate.file_fingerprints)
# stands in for reading the file in a later session, but only while every
# part of it still matches; a file too new to be told apart from a later
# write gets none; a link is followed and checked on every call, never
# trusted; forgetting, rolling back or repairing a migration drops its
# fingerprint; a file that runs is read again whatever its fingerprint
# says; and neither migrate_status nor a read-only transaction writes one.
#
# Whether a session trusted a fingerprint shows by a fingerprint whose
# checksum is made wrong on purpose: trusted, it makes the file "changed";
# read, the file is what it was applied as.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Digest::SHA;

my $node = PostgreSQL::Test::Cluster->new('fingerprints');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION morgenmigrate');

my $base = PostgreSQL::Test::Utils::tempdir();
my $dir = "$base/set";
mkdir $_ or die for $dir, "$base/in", "$base/out";
my $old = time() - 3600;

# Writes a file; dates it an hour back unless $when says otherwise.
sub write_file
{
	my ($path, $text, $when) = @_;
	open my $fh, '>', $path or die "$path: $!";
	print $fh $text;
	close $fh;
	$when //= $old;
	utime $when, $when, $path or die "utime $path: $!";
}

write_file("$dir/001_a.sql", "CREATE TABLE IF NOT EXISTS a (id int);\n");
write_file("$dir/002_b.sql", "CREATE TABLE b (id int);\n");
write_file("$dir/003_c.sql", "CREATE TABLE c (id int);\n");
write_file("$dir/003_c.down.sql", "DROP TABLE c;\n");
write_file("$dir/004_d.down.sql", "DROP TABLE d;\n");
write_file("$dir/006_future.down.sql", "DROP TABLE future;\n");
write_file("$base/in/004_d.sql", "CREATE TABLE d (id int);\n");
# the same file outside the allowed directories (one inode, two names)
link("$base/in/004_d.sql", "$base/out/004_d.sql") or die "link: $!";
symlink("$base/in/004_d.sql", "$dir/004_d.sql") or die "symlink: $!";
# a modification time in the future: never clearly older than a reading
write_file("$dir/006_future.sql", "CREATE TABLE future (id int);\n",
	time() + 3600);
# a change time two seconds before the reading, as a fingerprint needs
sleep 3;

my $allowed = "SET morgenmigrate.allowed_directories = '$dir,$base/in';\n";
my $zero = '0' x 64;

# A new session's migrate_status, as "file:state ...".
sub status
{
	return $node->safe_psql('postgres', $allowed
		  . "SELECT string_agg(filename || ':' || state, ' ' ORDER BY filename)"
		  . " FROM morgenmigrate.migrate_status('$dir')");
}

# A new session's no-op (or not) migrate_apply: the files it applied.
sub apply
{
	return $node->safe_psql('postgres', $allowed
		  . "SELECT count(*) FROM morgenmigrate.migrate_apply('$dir')");
}

# The fingerprints kept of the migrations' own files, as "file ...": not
# those of the down files read with them (kept too, see the end), nor a
# directory's proof (an empty name).
sub kept
{
	return $node->safe_psql('postgres',
		"SELECT string_agg(filename, ' ' ORDER BY filename)"
		  . " FROM morgenmigrate.file_fingerprints"
		  . " WHERE filename <> '' AND filename NOT LIKE '%.down.sql'");
}

# Makes the kept checksum of a file wrong (all zeros).
sub spoil
{
	my ($file) = @_;
	$node->safe_psql('postgres',
		"UPDATE morgenmigrate.file_fingerprints SET checksum = '$zero'"
		  . " WHERE filename = '$file'");
}

# device, inode, size, mtime_ns, ctime_ns of a file, links followed
sub stat_ns
{
	my ($path) = @_;
	my $out = `stat -L -c '%d %i %s %.9Y %.9Z' '$path'`;
	die "stat $path" if $?;
	my @f = split ' ', $out;
	s/\.// for @f[3, 4];
	return @f;
}

# Keeps a fingerprint of a file that matches it in every part (links
# followed), with facts of a plain file, and a checksum of zeros.
sub forge
{
	my ($file) = @_;
	my ($dev, $ino, $size, $mtime, $ctime) = stat_ns("$dir/$file");
	my $written = $node->safe_psql('postgres',
		"INSERT INTO morgenmigrate.file_fingerprints"
		  . " SELECT directory, '$file', $dev, $ino, $size, $mtime, $ctime, '$zero', facts"
		  . " FROM morgenmigrate.file_fingerprints WHERE filename = '001_a.sql'"
		  . " ON CONFLICT (directory, filename) DO UPDATE SET device = excluded.device,"
		  . " inode = excluded.inode, size = excluded.size, mtime_ns = excluded.mtime_ns,"
		  . " ctime_ns = excluded.ctime_ns, checksum = excluded.checksum RETURNING 1");
	# a forgery that wrote nothing would make "not trusted" pass for nothing
	die "forge $file: no fingerprint of 001_a.sql to copy" unless $written eq '1';
}

is(apply(), '5', 'five files applied');
is(kept(), '', 'a call that applied files keeps no fingerprint of them yet');
my $before = status();
is(kept(), '', 'migrate_status keeps none');
is($node->safe_psql('postgres', "BEGIN READ ONLY;\n$allowed"
	  . "SELECT count(*) FROM morgenmigrate.migrate_status('$dir');\nCOMMIT;"),
	'5', 'migrate_status runs in a read-only transaction');
is(kept(), '', 'and keeps no fingerprint there');
is($node->safe_psql('postgres', $allowed
	  . "SELECT count(*) FROM morgenmigrate.migrate_apply('$dir', dry_run => true)"),
	'0', 'a rehearsal with nothing to rehearse');
is(kept(), '', 'keeps no fingerprint either');
is(apply(), '0', 'nothing to apply');
is(kept(), '001_a.sql 002_b.sql 003_c.sql',
	'a no-op call keeps the fingerprints of the applied plain files, not of a link nor of a file of the future');
is(status(), $before, 'a new session sees the same states with them');

# (1) trusted while everything matches
spoil('001_a.sql');
is(status(),
	'001_a.sql:changed 002_b.sql:applied 003_c.sql:applied 004_d.sql:applied 006_future.sql:applied',
	'a new session trusts a matching fingerprint (a spoiled checksum shows)');

# the same bytes written again, its modification time put back: only the
# change time differs, and the file is read again
write_file("$dir/001_a.sql", "CREATE TABLE IF NOT EXISTS a (id int);\n");
is(status(),
	'001_a.sql:applied 002_b.sql:applied 003_c.sql:applied 004_d.sql:applied 006_future.sql:applied',
	'another change time: the fingerprint is not trusted');

# other content of the same size and modification time
write_file("$dir/002_b.sql", "CREATE TABLE x (id int);\n");
is(status(),
	'001_a.sql:applied 002_b.sql:changed 003_c.sql:applied 004_d.sql:applied 006_future.sql:applied',
	'an edit that keeps the size and the modification time is seen');
write_file("$dir/002_b.sql", "CREATE TABLE b (id int);\n");

# another file renamed into place (another inode)
is(apply(), '0', 'nothing to apply');
write_file("$dir/003_c.new", "CREATE TABLE z (id int);\n");
rename("$dir/003_c.new", "$dir/003_c.sql") or die;
is(status(),
	'001_a.sql:applied 002_b.sql:applied 003_c.sql:changed 004_d.sql:applied 006_future.sql:applied',
	'a file replaced by a rename is seen');
write_file("$dir/003_c.sql", "CREATE TABLE c (id int);\n");

# a fingerprint of a file of the same inode, size and times, but each in
# turn another: never trusted
sleep 3;
is(apply(), '0', 'nothing to apply');
my ($dev, $ino, $size, $mtime, $ctime) = stat_ns("$dir/002_b.sql");
for my $other ("device = $dev + 1", "inode = $ino + 1", "size = $size + 1",
	"mtime_ns = $mtime + 1", "ctime_ns = $ctime + 1")
{
	$node->safe_psql('postgres',
		"UPDATE morgenmigrate.file_fingerprints SET checksum = '$zero',"
		  . " device = $dev, inode = $ino, size = $size, mtime_ns = $mtime,"
		  . " ctime_ns = $ctime WHERE filename = '002_b.sql';"
		  . "UPDATE morgenmigrate.file_fingerprints SET $other"
		  . " WHERE filename = '002_b.sql'");
	like(status(), qr/002_b\.sql:applied/, "not trusted with another $other");
}
$node->safe_psql('postgres',
	"UPDATE morgenmigrate.file_fingerprints SET checksum = '$zero',"
	  . " device = $dev, inode = $ino, size = $size, mtime_ns = $mtime,"
	  . " ctime_ns = $ctime WHERE filename = '002_b.sql'");
like(status(), qr/002_b\.sql:changed/, 'trusted when all of them match');
$node->safe_psql('postgres', 'DELETE FROM morgenmigrate.file_fingerprints');

# (2) a file whose modification time is not clearly older than its
# reading (one in the future) is never proved
is(apply(), '0', 'nothing to apply');
is(kept(), '001_a.sql 002_b.sql 003_c.sql',
	'a file whose modification time is not clearly older than its reading gets no fingerprint');

# (3) a link is checked on every call: a fingerprint for the linked file
# that matches it in every part, the link turned outside the allowed
# directories to the same inode, refused all the same
sleep 3;
is(apply(), '0', 'nothing to apply');
forge('004_d.sql');
like(status(), qr/004_d\.sql:applied/, 'a fingerprint of a link is not trusted');
unlink("$dir/004_d.sql") or die;
symlink("$base/out/004_d.sql", "$dir/004_d.sql") or die;
my ($rc, $out, $err) = $node->psql('postgres', $allowed
	  . "SELECT count(*) FROM morgenmigrate.migrate_status('$dir')");
like($err, qr/ERROR:  migration file "[^"]*004_d\.sql" is outside morgenmigrate\.allowed_directories/,
	'a link turned outside the allowed directories is refused, fingerprint or not');
unlink("$dir/004_d.sql") or die;
symlink("$base/in/004_d.sql", "$dir/004_d.sql") or die;

# (4) forget, rollback and repair drop the fingerprint of the migration
$node->safe_psql('postgres',
	"DELETE FROM morgenmigrate.file_fingerprints WHERE filename = '004_d.sql'");
is(kept(), '001_a.sql 002_b.sql 003_c.sql', 'three fingerprints');
$node->safe_psql('postgres', "SELECT morgenmigrate.migrate_forget('001_a.sql')");
is(kept(), '002_b.sql 003_c.sql', 'migrate_forget drops the fingerprint');
is($node->safe_psql('postgres', $allowed
	  . "SELECT string_agg(filename, ' ') FROM morgenmigrate.migrate_rollback('$dir', target => '002')"),
	'006_future.sql 004_d.sql 003_c.sql', 'three migrations rolled back');
is(kept(), '002_b.sql', 'migrate_rollback drops the fingerprint');
is($node->safe_psql('postgres', $allowed
	  . "SELECT string_agg(filename, ' ') FROM morgenmigrate.migrate_apply('$dir')"),
	'001_a.sql 003_c.sql 004_d.sql 006_future.sql', 'the forgotten and rolled-back files applied again');
sleep 3;
is(apply(), '0', 'nothing to apply');
is(kept(), '001_a.sql 002_b.sql 003_c.sql', 'their fingerprints kept again');
write_file("$dir/002_b.sql", "CREATE TABLE B (id int);\n");
$node->safe_psql('postgres', $allowed
	  . "SELECT count(*) FROM morgenmigrate.migrate_repair('$dir')");
is(kept(), '001_a.sql 003_c.sql', 'migrate_repair drops the fingerprint of the file it accepts');

# (5) a file that runs is read again: a fingerprint that lies about a
# pending file changes nothing of what is recorded
write_file("$dir/007_g.sql", "CREATE TABLE g (id int);\n");
sleep 3;
forge('007_g.sql');
is(apply(), '1', 'the pending file applied');
is($node->safe_psql('postgres',
		"SELECT checksum = encode(sha256(pg_read_binary_file('$dir/007_g.sql')), 'hex')"
		  . " FROM morgenmigrate.schema_migrations WHERE filename = '007_g.sql'"),
	't', 'its recorded checksum is what the file holds, not what its fingerprint said');
$node->safe_psql('postgres',
	"DELETE FROM morgenmigrate.file_fingerprints WHERE filename = '007_g.sql'");

# and an applied file changed beside a pending one refuses the call as it
# would without any fingerprint
write_file("$dir/008_h.sql", "CREATE TABLE h (id int);\n");
sleep 3;
write_file("$dir/001_a.sql", "CREATE TABLE IF NOT EXISTS q (id int);\n");
my $refused = sub {
	my ($rc, $out, $err) = $node->psql('postgres', $allowed
		  . "SELECT count(*) FROM morgenmigrate.migrate_apply('$dir')");
	return $err;
};
my $with = $refused->();
like($with, qr/ERROR:  1 applied migration has changed since it was applied\nDETAIL:  Changed: 001_a\.sql\./,
	'the changed applied file is refused with fingerprints kept');
$node->safe_psql('postgres', 'DELETE FROM morgenmigrate.file_fingerprints');
is($refused->(), $with, 'exactly as without them');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM morgenmigrate.schema_migrations WHERE filename = '008_h.sql'"),
	'0', 'and the pending file did not run');
write_file("$dir/001_a.sql", "CREATE TABLE IF NOT EXISTS a (id int);\n");

# (6) migrate_status uses the fingerprints, in a read-only transaction
# too, and writes none, not even of the files it read
is(apply(), '1', 'the last file applied');
sleep 3;
is(apply(), '0', 'nothing to apply');
my $all = "SELECT string_agg(f::text, ' ' ORDER BY filename) FROM morgenmigrate.file_fingerprints f";
$node->safe_psql('postgres',
	"DELETE FROM morgenmigrate.file_fingerprints WHERE filename = '003_c.sql'");
spoil('002_b.sql');
my $rows = $node->safe_psql('postgres', $all);
is($node->safe_psql('postgres', "BEGIN READ ONLY;\n$allowed"
	  . "SELECT string_agg(filename || ':' || state, ' ' ORDER BY filename)"
	  . " FROM morgenmigrate.migrate_status('$dir') WHERE filename < '004';\nCOMMIT;"),
	'001_a.sql:applied 002_b.sql:changed 003_c.sql:applied',
	'migrate_status in a read-only transaction trusts the fingerprints');
like(status(), qr/002_b\.sql:changed 003_c\.sql:applied/, 'and so in a read-write one');
is($node->safe_psql('postgres', $all), $rows, 'and keeps nothing of the file it read');

# a role that may not read the fingerprints (and so cannot update or
# delete them by key either) reads every file
$node->safe_psql('postgres', <<"SQL");
CREATE ROLE deployer LOGIN;
GRANT pg_read_server_files TO deployer;
GRANT USAGE ON SCHEMA morgenmigrate TO deployer;
GRANT SELECT, INSERT, UPDATE, DELETE ON morgenmigrate.schema_migrations,
	morgenmigrate.migration_errors TO deployer;
GRANT INSERT, UPDATE, DELETE ON morgenmigrate.file_fingerprints TO deployer;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA morgenmigrate TO deployer;
SQL
$rows = $node->safe_psql('postgres', $all);
my $as_deployer = "${allowed}SET ROLE deployer;\n";
is($node->safe_psql('postgres', $as_deployer
	  . "SELECT state FROM morgenmigrate.migrate_status('$dir') WHERE filename = '002_b.sql'"),
	'applied', 'a role without the fingerprints reads the files');
is($node->safe_psql('postgres', $as_deployer
	  . "SELECT count(*) FROM morgenmigrate.migrate_apply('$dir');\n"
	  . "SELECT morgenmigrate.migrate_forget('008_h.sql');\n"
	  . "SELECT count(*) FROM morgenmigrate.schema_migrations WHERE filename = '008_h.sql'"),
	"0\n\n0", 'and applies and forgets');
is($node->safe_psql('postgres', $all), $rows, 'without touching them');

# pg_dump leaves the fingerprints out: a restored database reads its files
isnt(kept(), '', 'fingerprints kept');
my ($dump, $dump_err) = run_command([ 'pg_dump', '-d', $node->connstr('postgres') ]);
is($dump_err, '', 'pg_dump ran');
unlike($dump, qr/COPY morgenmigrate\.file_fingerprints/, 'pg_dump leaves the fingerprints out');
like($dump, qr/COPY morgenmigrate\.schema_migrations/, 'and keeps the history');

# (7) a fingerprint is the build's and the server's: its facts start with
# the build's identity (the SHA-256 of the sources, as the Makefile makes
# src/build_identity.h) and the server's version number; one that another
# build or another server wrote is not trusted
my @sources = sort grep { !m{/build_identity\.h$} }
  glob('src/*.c src/*.h src/layouts/*.c src/layouts/*.h');
my $sha = Digest::SHA->new(256);
$sha->addfile($_) for @sources;
my $identity = $sha->hexdigest;
$node->safe_psql('postgres', 'DELETE FROM morgenmigrate.file_fingerprints');
unlink("$dir/008_h.sql") or die;	# forgotten above
sleep 3;
is(apply(), '0', 'nothing to apply');
like(kept(), qr/002_b\.sql/, 'the fingerprint of 002_b.sql kept');
is($node->safe_psql('postgres',
		"SELECT bool_and(substr(facts, 1, 64) = convert_to('$identity', 'UTF8'))"
		  . " FROM morgenmigrate.file_fingerprints"),
	't', "the facts start with this build's identity");
my $facts = $node->safe_psql('postgres',
	"SELECT facts FROM morgenmigrate.file_fingerprints WHERE filename = '002_b.sql'");
spoil('002_b.sql');
like(status(), qr/002_b\.sql:changed/, 'trusted as this build wrote it');
my %other = (
	'another build' => "overlay(facts placing convert_to(repeat('0', 64), 'UTF8') from 1 for 64)",
	'another server version' => "overlay(facts placing '\\x01000000'::bytea from 65 for 4)");
for my $who (sort keys %other)
{
	$node->safe_psql('postgres',
		"UPDATE morgenmigrate.file_fingerprints SET facts = $other{$who}"
		  . " WHERE filename = '002_b.sql'");
	like(status(), qr/002_b\.sql:applied/, "not trusted as $who wrote it");
	$node->safe_psql('postgres',
		"UPDATE morgenmigrate.file_fingerprints SET facts = '$facts'"
		  . " WHERE filename = '002_b.sql'");
	like(status(), qr/002_b\.sql:changed/, 'trusted again with the facts put back');
}

# (8) a session reads the fingerprints of its own directory alone (by the
# table's key), and reads them as a query of the table would: with the
# key dropped, and as a role that row security keeps from a forged one
my $dir2 = "$base/set2";
mkdir $dir2 or die;
{
	# the file as applied: the same text as the first directory's
	open my $fh, '<', "$dir/002_b.sql" or die "$dir/002_b.sql: $!";
	local $/;
	write_file("$dir2/002_b.sql", scalar <$fh>);
}
sleep 3;
my $allowed2 = "SET morgenmigrate.allowed_directories = '$dir,$dir2,$base/in';\n";
sub status2
{
	my ($set, $role) = @_;
	return $node->safe_psql('postgres', $allowed2
		  . ($role ? "SET ROLE $role;\n" : '')
		  . "SELECT string_agg(filename || ':' || state, ' ' ORDER BY filename)"
		  . " FROM morgenmigrate.migrate_status('$set') WHERE filename = '002_b.sql'");
}
$node->safe_psql('postgres', 'DELETE FROM morgenmigrate.file_fingerprints');
is(apply(), '0', 'nothing to apply in the first directory');
$node->safe_psql('postgres', $allowed2
	  . "SELECT count(*) FROM morgenmigrate.migrate_apply('$dir2')");
is($node->safe_psql('postgres',
		"SELECT string_agg(directory, ' ' ORDER BY directory)"
		  . " FROM morgenmigrate.file_fingerprints WHERE filename = '002_b.sql'"),
	"$dir $dir2", 'each directory keeps a fingerprint of 002_b.sql');
$node->safe_psql('postgres',
	"UPDATE morgenmigrate.file_fingerprints SET checksum = '$zero'"
	  . " WHERE filename = '002_b.sql' AND directory = '$dir2'");
# the first directory's row after it in the table, so that a read of every
# directory's rows would take it for the second's
$node->safe_psql('postgres',
	"UPDATE morgenmigrate.file_fingerprints SET checksum = checksum"
	  . " WHERE directory = '$dir'");
is(status2($dir), '002_b.sql:applied', "the other directory's forged fingerprint is not this one's");
is(status2($dir2), '002_b.sql:changed', 'the forged one is trusted in its own directory');
$node->safe_psql('postgres',
	'ALTER TABLE morgenmigrate.file_fingerprints DROP CONSTRAINT file_fingerprints_pkey');
is(status2($dir) . ' ' . status2($dir2), '002_b.sql:applied 002_b.sql:changed',
	'the same without the key');
$node->safe_psql('postgres',
	'ALTER TABLE morgenmigrate.file_fingerprints ADD PRIMARY KEY (directory, filename)');
# an index of another collation is not the key a query would use: one
# that takes "set2" and "SET2" for one directory would give this one the
# other's fingerprint (its row last in the table again)
my $dir3 = "$base/SET2";
mkdir $dir3 or die;
{
	open my $fh, '<', "$dir/002_b.sql" or die "$dir/002_b.sql: $!";
	local $/;
	write_file("$dir3/002_b.sql", scalar <$fh>);
}
sleep 3;
my $allowed3 = "SET morgenmigrate.allowed_directories = '$dir,$dir2,$dir3,$base/in';\n";
$node->safe_psql('postgres', $allowed3
	  . "SELECT count(*) FROM morgenmigrate.migrate_apply('$dir3')");
$node->safe_psql('postgres', qq{
	ALTER TABLE morgenmigrate.file_fingerprints DROP CONSTRAINT file_fingerprints_pkey;
	CREATE COLLATION fp_nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
	CREATE INDEX fp_nocase_idx ON morgenmigrate.file_fingerprints (directory COLLATE fp_nocase);
	UPDATE morgenmigrate.file_fingerprints SET checksum = checksum WHERE directory = '$dir3';
});
is($node->safe_psql('postgres',
		"SELECT count(*) FROM morgenmigrate.file_fingerprints"
		  . " WHERE directory COLLATE fp_nocase = '$dir2' AND filename = '002_b.sql'"),
	'2', 'the index of another collation takes the two directories for one');
is(status2($dir2), '002_b.sql:changed', 'and is not used: the forged fingerprint is still trusted');
$node->safe_psql('postgres', qq{
	DROP INDEX morgenmigrate.fp_nocase_idx;
	DROP COLLATION fp_nocase;
	DELETE FROM morgenmigrate.file_fingerprints WHERE directory = '$dir3';
	ALTER TABLE morgenmigrate.file_fingerprints ADD PRIMARY KEY (directory, filename);
});
$node->safe_psql('postgres', qq{
	CREATE ROLE fp_reader;
	GRANT pg_read_server_files TO fp_reader;
	GRANT USAGE ON SCHEMA morgenmigrate TO fp_reader;
	GRANT SELECT ON ALL TABLES IN SCHEMA morgenmigrate TO fp_reader;
	GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA morgenmigrate TO fp_reader;
	ALTER TABLE morgenmigrate.file_fingerprints ENABLE ROW LEVEL SECURITY;
	CREATE POLICY not_set2 ON morgenmigrate.file_fingerprints FOR SELECT
	 USING (directory OPERATOR(pg_catalog.<>) '$dir2');
});
is(status2($dir2, 'fp_reader'), '002_b.sql:applied',
	'a role that row security keeps from the forged fingerprint reads the file');
is(status2($dir2), '002_b.sql:changed', 'the superuser, whom it does not bind, trusts it');
is(status2($dir, 'fp_reader'), '002_b.sql:applied', 'and the role reads the other directory as before');

# (9) a table without its key (a damaged extension table) keeps no
# fingerprints: a call that would keep some still applies and records its
# files, where ON CONFLICT without the key failed it after they ran
my $dir4 = "$base/set4";
mkdir $dir4 or die;
write_file("$dir4/001_nokey_a.sql", "CREATE TABLE nokey_a (id int);\n");
my $allowed4 = "SET morgenmigrate.allowed_directories = '$dir4';\n";
$node->safe_psql('postgres', $allowed4
	  . "SELECT count(*) FROM morgenmigrate.migrate_apply('$dir4')");
write_file("$dir4/002_nokey_b.sql", "CREATE TABLE nokey_b (id int);\n");
sleep 3;
$node->safe_psql('postgres', qq{
	DELETE FROM morgenmigrate.file_fingerprints WHERE directory = '$dir4';
	ALTER TABLE morgenmigrate.file_fingerprints DROP CONSTRAINT file_fingerprints_pkey;
});
($rc, $out, $err) = $node->psql('postgres', $allowed4
	  . "SELECT string_agg(filename || ':' || status, ' ')"
	  . " FROM morgenmigrate.migrate_apply('$dir4')");
is("$rc $out", '0 002_nokey_b.sql:applied', 'without the key the pending file applies')
  or diag($err);
is($node->safe_psql('postgres',
		"SELECT string_agg(filename, ' ' ORDER BY filename) FROM morgenmigrate.schema_migrations"
		  . " WHERE filename LIKE '%nokey%'")
	  . ' ' . $node->safe_psql('postgres', "SELECT to_regclass('nokey_b') IS NOT NULL"),
	'001_nokey_a.sql 002_nokey_b.sql t', 'and is recorded, its table made');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM morgenmigrate.file_fingerprints WHERE directory = '$dir4'"),
	'0', 'no fingerprint is kept without the key');
$node->safe_psql('postgres', $allowed4
	  . "SELECT count(*) FROM morgenmigrate.migrate_status('$dir4')");
$node->safe_psql('postgres',
	'ALTER TABLE morgenmigrate.file_fingerprints ADD PRIMARY KEY (directory, filename)');
$node->safe_psql('postgres', $allowed4
	  . "SELECT count(*) FROM morgenmigrate.migrate_apply('$dir4')");
is($node->safe_psql('postgres',
		"SELECT string_agg(filename, ' ' ORDER BY filename) FROM morgenmigrate.file_fingerprints"
		  . " WHERE directory = '$dir4'"),
	'001_nokey_a.sql 002_nokey_b.sql', 'with the key back, the next call keeps them');

done_testing();
