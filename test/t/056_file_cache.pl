# A session keeps the checksum of each file it read, and later calls stat()
# on a file instead of reading it while it stays as it was.  Whatever happens
# to a file between two calls of one session, the second call must see it
# as a new session would: an edit of the same size with its modification
# time put back, a file replaced by another of the same size and times, a
# file written again within the same second, another morgenmigrate.layout,
# a link turned to a file outside morgenmigrate.allowed_directories, and a
# directory whose entries are added, renamed or removed.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('file_cache');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION morgenmigrate');

my $base = PostgreSQL::Test::Utils::tempdir();
my $dir = "$base/set";
mkdir $_ or die for $dir, "$base/in", "$base/out", "$base/marked";
my $old = time() - 3600;

# Writes a file and dates it an hour back (old enough to be kept).
sub write_old
{
	my ($path, $text) = @_;
	open my $fh, '>', $path or die "$path: $!";
	print $fh $text;
	close $fh;
	utime $old, $old, $path or die "utime $path: $!";
}

write_old("$dir/001_a.sql", "CREATE TABLE a (id int);\n");
write_old("$dir/002_b.sql", "CREATE TABLE b (id int);\n");
write_old("$dir/003_c.sql", "CREATE TABLE c (id int);\n");
write_old("$base/in/004_d.sql", "CREATE TABLE d (id int);\n");
write_old("$base/out/004_d.sql", "CREATE TABLE d (id int);\n");
symlink("$base/in/004_d.sql", "$dir/004_d.sql") or die;
write_old("$base/marked/20240101000000_m.sql",
	"-- migrate:up\nCREATE TABLE m (id int);\n\n-- migrate:down\nDROP TABLE m;\n");
# a directory whose entries change between two calls of one session
mkdir "$base/list" or die;
write_old("$base/list/101_x.sql", "CREATE TABLE x (id int);\n");
write_old("$base/list/102_y.sql", "CREATE TABLE y (id int);\n");
# directories with a subdirectory named like a diesel migration, still
# without its up.sql: a file added inside it leaves the directory's own
# times as they were
mkdir "$base/$_" or die for 'withsub', 'withsub/2024-01-01-000000_later', 'newsub';
write_old("$base/withsub/001_s.sql", "CREATE TABLE s (id int);\n");
write_old("$base/newsub/001_n.sql", "CREATE TABLE n (id int);\n");
# a file or a directory listing is kept once its change time (now: no
# program can set it back) lies two seconds before its reading
sleep 3;

# A shell step of a psql script: perl code run between two queries.
sub step
{
	my ($code) = @_;
	return "\\! $^X -e '$code'\n";
}
# Writes a file anew; with $keep_times its times are put back an hour.
sub rewrite
{
	my ($path, $text, $keep_times) = @_;
	return step("open F, q{>}, q{$path} or die; print F qq{$text}; close F;"
		  . ($keep_times ? " utime $old, $old, q{$path} or die;" : ''));
}

my $status = "SELECT string_agg(filename || ':' || state, ' ' ORDER BY filename)"
  . " FROM morgenmigrate.migrate_status('$dir');\n";
my $script = "SET morgenmigrate.allowed_directories = '$dir,$base/in';\n"
  . "SELECT count(*) FROM morgenmigrate.migrate_apply('$dir');\n"
  . $status
  # the same size, the old modification time (only the change time moves)
  . step("open F, q{+<}, q{$dir/002_b.sql} or die; print F q{CREATE TABLE x}; close F;"
	  . " utime $old, $old, q{$dir/002_b.sql} or die;")
  . $status
  . rewrite("$dir/002_b.sql", 'CREATE TABLE b (id int);\n', 1)
  . $status
  # another file (another inode) of the same size and times, moved in
  . rewrite("$dir/003_c.new", 'CREATE TABLE z (id int);\n', 1)
  . step("rename q{$dir/003_c.new}, q{$dir/003_c.sql} or die;")
  . $status
  . rewrite("$dir/003_c.sql", 'CREATE TABLE c (id int);\n', 1)
  # a file applied as soon as it is written, then written again at once
  # (whether the clock ticks between the two writes is up to the kernel:
  # a file this new is never kept, so either way it is read again)
  . rewrite("$dir/005_e.sql", 'CREATE TABLE e (id int);\n', 0)
  . "SELECT count(*) FROM morgenmigrate.migrate_apply('$dir');\n"
  . rewrite("$dir/005_e.sql", 'CREATE TABLE f (id int);\n', 0)
  . $status;
my ($rc, $out, $err) = $node->psql('postgres', $script);
is($rc, 0, 'the session ran') or diag($err);
my @lines = split /\n/, $out;
is($lines[0], '4', 'four files applied');
is($lines[1], '001_a.sql:applied 002_b.sql:applied 003_c.sql:applied 004_d.sql:applied',
	'all applied');
is($lines[2], '001_a.sql:applied 002_b.sql:changed 003_c.sql:applied 004_d.sql:applied',
	'an edit of the same size with the old modification time is seen');
is($lines[3], '001_a.sql:applied 002_b.sql:applied 003_c.sql:applied 004_d.sql:applied',
	'and so is its undoing');
is($lines[4], '001_a.sql:applied 002_b.sql:applied 003_c.sql:changed 004_d.sql:applied',
	'a file replaced by another of the same size and times is seen');
is($lines[5], '1', 'the new file applied');
is($lines[6],
	'001_a.sql:applied 002_b.sql:applied 003_c.sql:applied 004_d.sql:applied 005_e.sql:changed',
	'a file written again within a second of its reading is seen');

# a link turned to an identical file outside the allowed directories: the
# session reads it again, and refuses it
$script = "SET morgenmigrate.allowed_directories = '$dir,$base/in';\n"
  . $status
  . step("symlink q{$base/out/004_d.sql}, q{$dir/004_d.new} or die;"
	  . " rename q{$dir/004_d.new}, q{$dir/004_d.sql} or die;")
  . $status;
($rc, $out, $err) = $node->psql('postgres', $script);
like($out, qr/^001_a\.sql:applied .* 004_d\.sql:applied /, 'the link is read while it points inside');
like($err, qr/ERROR:  migration file "[^"]*004_d\.sql" is outside morgenmigrate\.allowed_directories/,
	'a link retargeted outside is refused in the same session');

# what a file's markers mean depends on morgenmigrate.layout: one session
# under each setting in turn sees what a new session under it sees
$node->safe_psql('postgres', <<"SQL");
CREATE FUNCTION layout_of(d text) RETURNS text LANGUAGE plpgsql AS \$\$
BEGIN
	RETURN (SELECT string_agg(layout || '|' || coalesce(down, ''), ',')
		FROM morgenmigrate.migrate_layout(d));
EXCEPTION WHEN others THEN
	RETURN 'ERROR ' || SQLSTATE;
END \$\$;
SQL
my @settings = ('auto', 'plain', 'dbmate', 'goose', 'auto');
my $query = "SELECT current_setting('morgenmigrate.layout') || ': ' || layout_of('$base/marked');";
my @each = map { $node->safe_psql('postgres', "SET morgenmigrate.layout = '$_';\n$query") } @settings;
my $one = $node->safe_psql('postgres',
	join('', map { "SET morgenmigrate.layout = '$_';\n$query\n" } @settings));
like($each[0], qr/^auto: dbmate\|/, 'a new session reads dbmate markers under auto');
like($each[1], qr/^plain: ERROR /, 'and refuses them under plain');
is($one, join("\n", @each), 'one session under each setting in turn sees what a new session sees');

# the listing of a directory: an entry added, renamed or removed between
# two calls of one session is seen (in a database of its own: the history
# of the other sets is not this directory's)
$node->safe_psql('postgres', 'CREATE DATABASE listing');
$node->safe_psql('listing', 'CREATE EXTENSION morgenmigrate');
my $liststatus = "SELECT string_agg(filename || ':' || state, ' ' ORDER BY filename)"
  . " FROM morgenmigrate.migrate_status('$base/list');\n";
($rc, $out, $err) = $node->psql('listing',
	"SELECT count(*) FROM morgenmigrate.migrate_apply('$base/list');\n"
	  . $liststatus
	  . rewrite("$base/list/103_z.sql", 'CREATE TABLE z (id int);\n', 1)
	  . $liststatus
	  . step("rename q{$base/list/103_z.sql}, q{$base/list/104_z.sql} or die;")
	  . $liststatus
	  . step("unlink q{$base/list/101_x.sql} or die;")
	  . $liststatus);
is($rc, 0, 'the listing session ran') or diag($err);
is($out, "2\n101_x.sql:applied 102_y.sql:applied\n"
	  . "101_x.sql:applied 102_y.sql:applied 103_z.sql:pending\n"
	  . "101_x.sql:applied 102_y.sql:applied 104_z.sql:pending\n"
	  . "101_x.sql:missing 102_y.sql:applied 104_z.sql:pending",
	'a file added, renamed and removed is seen by the same session');

# a file added inside a subdirectory (an existing one, or one made since
# the session's first call): the session sees the directory as a new
# session does, whatever the layouts make of it
$node->safe_psql('postgres', 'CREATE DATABASE subdirs');
$node->safe_psql('subdirs', 'CREATE EXTENSION morgenmigrate');
$node->safe_psql('subdirs', <<"SQL");
CREATE FUNCTION status_of(d text) RETURNS text LANGUAGE plpgsql AS \$\$
BEGIN
	RETURN (SELECT string_agg(filename || ':' || state, ' ' ORDER BY filename)
		FROM morgenmigrate.migrate_status(d));
EXCEPTION WHEN others THEN
	RETURN 'ERROR ' || SQLSTATE || ' ' || SQLERRM;
END \$\$;
SQL
my $of_withsub = "SELECT status_of('$base/withsub');\n";
my $of_newsub = "SELECT status_of('$base/newsub');\n";
($rc, $out, $err) = $node->psql('subdirs',
	$of_withsub
	  . rewrite("$base/withsub/2024-01-01-000000_later/up.sql", 'CREATE TABLE l (id int);\n', 1)
	  . $of_withsub
	  . $of_newsub
	  # old enough for its listing to be kept
	  . step("mkdir q{$base/newsub/2024-02-01-000000_later} or die; sleep 3;")
	  . $of_newsub
	  . rewrite("$base/newsub/2024-02-01-000000_later/up.sql", 'CREATE TABLE l (id int);\n', 1)
	  . $of_newsub);
is($rc, 0, 'the subdirectory session ran') or diag($err);
my @seen = split /\n/, $out;
is($seen[0], '001_s.sql:pending', 'before: one migration');
is($seen[1], $node->safe_psql('subdirs', $of_withsub),
	'an up.sql added to an existing subdirectory: the session sees what a new session sees');
like($seen[1], qr/^ERROR 22023 migration directory .* mixes layouts/,
	'(the directory now mixes layouts)');
is($seen[3], '001_n.sql:pending', 'a new empty subdirectory is no migration');
is($seen[4], $node->safe_psql('subdirs', $of_newsub),
	'an up.sql added to a subdirectory made since: the session sees what a new session sees');
like($seen[4], qr/^ERROR 22023 migration directory .* mixes layouts/,
	'(that directory now mixes layouts too)');

done_testing();
