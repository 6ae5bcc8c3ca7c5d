# The session's file cache and the fingerprints trust a file's times and
# inode number only on a local file system that this server's kernel
# stamps (files.c names them; any other, or one it does not know, is not
# trusted unless morgenmigrate.trust_network_fingerprints is on), and only
# for files on the directory's own device: a link may lead onto another
# file system.  This machine's test directories are on such a local file
# system, and so is /dev/shm (tmpfs); no network file system or FUSE mount
# is made here.
#
# Whether a session read a file again shows in the bytes its backend read
# (rchar of /proc/self/io): the files are 2 MB each, far more than
# anything else a call reads.
use strict;
use warnings;

use File::Temp ();
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

plan skip_all => '/dev/shm is not a tmpfs writable here'
  unless -d '/dev/shm' && -w '/dev/shm'
  && `stat -f -c %T /dev/shm 2>/dev/null` =~ /^tmpfs/;

my $node = PostgreSQL::Test::Cluster->new('file_system_trust');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION morgenmigrate');

my $base = PostgreSQL::Test::Utils::tempdir();
my $shm = File::Temp::tempdir('mm_trust_XXXX', DIR => '/dev/shm', CLEANUP => 1);
chmod 0755, $shm;
my $old = time() - 3600;
my $filler = ('-- ' . ('x' x 97) . "\n") x 20000;    # 2 MB of comment

# Writes a migration of 2 MB, dated an hour back.
sub write_big
{
	my ($path, $table) = @_;
	PostgreSQL::Test::Utils::append_to_file($path, $filler . "CREATE TABLE $table (id int);\n");
	utime $old, $old, $path or die "utime $path: $!";
}

mkdir "$shm/$_" or die "mkdir: $!" for 'set', 'target';
mkdir "$base/linked" or die "mkdir: $!";
write_big("$shm/set/001_a.sql", 'shm_a');
write_big("$shm/set/002_b.sql", 'shm_b');
write_big("$shm/target/001_big.sql", 'linked_big');
symlink("$shm/target/001_big.sql", "$base/linked/001_big.sql") or die "symlink: $!";
# change times two seconds before any reading
sleep 3;

# The bytes one session's backend read during the last of four calls of
# migrate_status on a directory.
sub fourth_call_read
{
	my ($dir) = @_;
	my $call = "SELECT count(*) FROM morgenmigrate.migrate_status('$dir');\n";
	my $io = "SELECT pg_read_file('/proc/self/io');\n";
	my $out = $node->safe_psql('postgres', $call x 3 . $io . $call . $io);
	my @rchar = $out =~ /^rchar: (\d+)$/mg;
	die "no rchar in: $out" unless @rchar == 2;
	return $rchar[1] - $rchar[0];
}

for my $dir ("$shm/set", "$base/linked")
{
	$node->safe_psql('postgres',
		"SELECT count(*) FROM morgenmigrate.migrate_apply('$dir')");
}

# a directory on tmpfs: kept by the session, and its fingerprints trusted
cmp_ok(fourth_call_read("$shm/set"), '<', 1024 * 1024,
	'on tmpfs, a later call of the session reads no file');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM morgenmigrate.migrate_apply('$shm/set')"),
	'0', 'a no-op call on tmpfs');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM morgenmigrate.file_fingerprints WHERE directory = '$shm/set'"),
	'2', 'keeps the fingerprints of both files');
$node->safe_psql('postgres',
	"UPDATE morgenmigrate.file_fingerprints SET checksum = repeat('0', 64)"
	  . " WHERE directory = '$shm/set'");
is($node->safe_psql('postgres',
		"SELECT string_agg(filename || ':' || state, ' ' ORDER BY filename)"
		  . " FROM morgenmigrate.migrate_status('$shm/set')"
		  . " WHERE filename IN ('001_a.sql', '002_b.sql')"),
	'001_a.sql:changed 002_b.sql:changed',
	'a new session trusts them (their spoiled checksums show)');

# a link from a directory of the disk onto tmpfs: another device, never
# kept by the session
cmp_ok(fourth_call_read("$base/linked"), '>=', -s "$shm/target/001_big.sql",
	'a file linked onto another file system is read on every call');

# The session's cache follows morgenmigrate.trust_network_fingerprints: a
# session that kept files of a network file system while it was on must not
# go on trusting them once it is off.  No such file system is mounted
# here, so what shows is the cache being dropped when the setting changes:
# a set never applied (no fingerprint stands in for its files) is read
# again by the first call after the change, and, as for a new session,
# kept from the second call on.
mkdir "$shm/unapplied" or die "mkdir: $!";
write_big("$shm/unapplied/001_a.sql", 'shm_u');
sleep 3;
{
	my $call = "SELECT count(*) FROM morgenmigrate.migrate_status('$shm/unapplied');\n";
	my $io = "SELECT pg_read_file('/proc/self/io');\n";
	my $out = $node->safe_psql('postgres',
		$call x 3 . $io . "SET morgenmigrate.trust_network_fingerprints = on;\n"
		  . $call . $io . $call x 2 . $io . $call . $io);
	my @rchar = $out =~ /^rchar: (\d+)$/mg;
	die "no rchar in: $out" unless @rchar == 4;
	cmp_ok($rchar[1] - $rchar[0], '>=', -s "$shm/unapplied/001_a.sql",
		'another morgenmigrate.trust_network_fingerprints drops what the session kept');
	cmp_ok($rchar[3] - $rchar[2], '<', 1024 * 1024,
		'and the session keeps the files again under the new setting');
}

$node->stop;
done_testing();
