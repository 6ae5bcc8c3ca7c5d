# A file system the extension does not know is not trusted: on a FUSE
# mount (an ext2 image mounted by fuse2fs, which only root may do), a
# session reads every migration file on every call, and a new session
# takes no fingerprint for proof, because such a file system's times and
# inode numbers need not change with a file.  Turning on
# morgenmigrate.trust_network_fingerprints (a superuser's decision) makes
# a no-op call keep the files' fingerprints and a session keep what it
# read, which shows that what is measured here would show trust if it were
# given; turned off again, the fingerprints kept under it count for
# nothing.
#
# Whether a call read the files shows in the bytes its backend read (rchar
# of /proc/self/io): the files are 2 MB each, far more than anything else
# a call reads.
#
# scripts/test.sh runs it as root (suite "root"), with PGHOST and PGPORT
# naming its server, whose postgres role only the postgres OS user may use.
use strict;
use warnings;

use File::Temp qw(tempdir);
use IPC::Run;
use Test::More;

plan skip_all => 'runs as root, against the server of scripts/test.sh' if $> != 0;
plan skip_all => 'this machine has no /dev/fuse to mount a FUSE file system with'
  unless -c '/dev/fuse';

# Runs CMD; dies with its output unless it succeeds.
sub run_or_die
{
	my (@cmd) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run(\@cmd, '<', \undef, '>', \$out, '2>', \$err)
	  or die "@cmd: $out$err";
	return $out;
}

# Runs SQL as the postgres role in database DB, as the postgres OS user;
# returns its output.
sub psql_postgres
{
	my ($db, $sql) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run(
		[ 'runuser', '-u', 'postgres', '--', 'psql', '-X', '-q', '-At', '-v',
			'ON_ERROR_STOP=1', '-d', $db ],
		'<', \$sql, '>', \$out, '2>', \$err, init => sub { chdir '/' })
	  or die "psql $db: $err";
	chomp $out;
	return $out;
}

my $db = 'mm_fuse_untrusted';
my $mounted = 0;
my $tmp = tempdir('mm_fuse_XXXX', DIR => '/var/tmp', CLEANUP => 1);
chmod 0755, $tmp;
my $image = "$tmp/image";
my $mnt = "$tmp/mnt";
mkdir $mnt or die "mkdir $mnt: $!";
run_or_die('truncate', '-s', '64M', $image);
run_or_die('mke2fs', '-q', '-F', '-t', 'ext2', $image);
# allow_other: the server runs as another user than the one who mounts
run_or_die('fuse2fs', '-o', 'allow_other', $image, $mnt);
$mounted = 1;

END
{
	my $rc = $?;
	if ($mounted)
	{
		system('umount', $mnt) == 0 or warn "umount $mnt failed";
	}
	eval { psql_postgres('postgres', "DROP DATABASE IF EXISTS $db") };
	$? = $rc;
}

like(run_or_die('stat', '-f', '-c', '%T', $mnt), qr/^fuse/,
	'the directory lies on a FUSE file system');

# Two migrations of 2 MB each, dated an hour back (times well before any
# reading, so that only the file system decides whether they are kept).
my $set = "$mnt/set";
mkdir $set or die "mkdir $set: $!";
chmod 0755, $mnt, $set;
my $filler = ('-- ' . ('x' x 97) . "\n") x 20000;
my $old = time() - 3600;
for my $f ([ '001_a.sql', 'fuse_a' ], [ '002_b.sql', 'fuse_b' ])
{
	my $path = "$set/$f->[0]";
	open my $fh, '>', $path or die "$path: $!";
	print $fh $filler, "CREATE TABLE $f->[1] (id int);\n";
	close $fh or die "$path: $!";
	chmod 0644, $path;
	utime $old, $old, $path or die "utime $path: $!";
}
my $size = (-s "$set/001_a.sql") + (-s "$set/002_b.sql");
sleep 3;

psql_postgres('postgres', "CREATE DATABASE $db");
psql_postgres($db, 'CREATE EXTENSION morgenmigrate');
is(psql_postgres($db,
		"SELECT string_agg(filename, ' ' ORDER BY filename) FROM morgenmigrate.migrate_apply('$set')"),
	'001_a.sql 002_b.sql', 'the set on the FUSE mount applies');

# The bytes the backend read during each call whose number is in CALLS,
# of a session that first runs SETUP and then calls migrate_status on the
# set four times.
sub read_by_calls
{
	my ($setup, @calls) = @_;
	my $io = "SELECT pg_read_file('/proc/self/io');\n";
	my $sql = $setup;
	for my $n (1 .. 4)
	{
		$sql .= $io
		  . "SELECT count(*) FROM morgenmigrate.migrate_status('$set') WHERE state = 'applied';\n"
		  . $io;
	}
	my $out = psql_postgres($db, $sql);
	my @rchar = $out =~ /^rchar: (\d+)$/mg;
	my @counts = $out =~ /^(\d+)$/mg;
	die "unexpected output: $out" unless @rchar == 8 && @counts == 4;
	is("@counts", '2 2 2 2', 'each call finds both files applied');
	return map { $rchar[ 2 * $_ - 1 ] - $rchar[ 2 * $_ - 2 ] } @calls;
}

# The fingerprints kept for the set's files.
sub fingerprints
{
	return psql_postgres($db,
		"SELECT count(*) FROM morgenmigrate.file_fingerprints WHERE directory = '$set' AND filename <> ''");
}

# The proofs kept for the set (its row with an empty file name).
sub proofs
{
	return psql_postgres($db,
		"SELECT count(*) FROM morgenmigrate.file_fingerprints WHERE directory = '$set' AND filename = ''");
}

# a no-op call keeps, for later sessions, what it proved of files applied
# before it, where their times are trusted: not here
is(psql_postgres($db, "SELECT count(*) FROM morgenmigrate.migrate_apply('$set')"),
	'0', 'a no-op call of a new session');
is(fingerprints(), '0', 'which keeps no fingerprint of a file on the FUSE mount');
is(proofs(), '0', 'nor a proof of the directory');
my ($first, $fourth) = read_by_calls('', 1, 4);
cmp_ok($first, '>=', $size,
	'a new session reads every file on the FUSE mount on its first call');
cmp_ok($fourth, '>=', $size,
	'and reads them again on its fourth call: the session keeps nothing of them');

# what trust would look like: fingerprints kept, and files kept by the
# session, with morgenmigrate.trust_network_fingerprints on
my $trust = "SET morgenmigrate.trust_network_fingerprints = on;\n";
is(psql_postgres($db, $trust . "SELECT count(*) FROM morgenmigrate.migrate_apply('$set')"),
	'0', 'a no-op call with morgenmigrate.trust_network_fingerprints on');
is(fingerprints(), '2', 'keeps the fingerprints of both files');
is(proofs(), '0', 'and, having read the files, no proof of the directory yet');
is(psql_postgres($db, $trust . "SELECT count(*) FROM morgenmigrate.migrate_apply('$set')"),
	'0', 'the next no-op call with the setting on');
is(proofs(), '1', 'reads no file, and keeps the proof of the directory');
($first, $fourth) = read_by_calls($trust, 1, 4);
cmp_ok($first, '<', 1024 * 1024,
	'with the setting on, a new session takes the fingerprints for the files');
cmp_ok($fourth, '<', 1024 * 1024, 'and its fourth call reads no file');

# the setting off again: the fingerprints kept under it count for nothing
($first) = read_by_calls('', 1);
cmp_ok($first, '>=', $size,
	'with the setting off, a new session reads every file again despite the fingerprints');

# The bytes the backend read during a no-op migrate_apply of a new
# session that first runs SETUP.
sub apply_reads
{
	my ($setup) = @_;
	my $io = "SELECT pg_read_file('/proc/self/io');\n";
	my $out = psql_postgres($db, $setup . $io
		  . "SELECT count(*) FROM morgenmigrate.migrate_apply('$set');\n" . $io);
	my @rchar = $out =~ /^rchar: (\d+)$/mg;
	die "unexpected output: $out" unless @rchar == 2 && $out =~ /^0$/m;
	return $rchar[1] - $rchar[0];
}
cmp_ok(apply_reads($trust), '<', $size,
	'with the setting on, a no-op migrate_apply reads no file (the proof stands)');
cmp_ok(apply_reads(''), '>=', $size,
	'with it off, migrate_apply reads every file again despite the proof');

is(psql_postgres($db, 'SELECT count(*) FROM morgenmigrate.schema_migrations'),
	'2', 'the history holds the two files, once each');

done_testing();
