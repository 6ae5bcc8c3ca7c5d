# A session keeps what migrate_plan made of each pending file (its text
# split into statements, their parse trees, the preflight), so that a
# second plan does not read and parse the files again.  Whatever changes
# between two calls of one session must show in the second call as in a
# new session: a file edited to the same size with its modification time
# put back (only its change time moves), a table grown, an index or a
# constraint added, a session that comes to hold a lock in the way.  And
# what is kept stays within its bound, however many files are planned.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../perl";
use MorgenmigrateTest qw(write_set);

my $node = PostgreSQL::Test::Cluster->new('plan_cache');
$node->init;
$node->start;
$node->safe_psql('postgres',
	'CREATE EXTENSION morgenmigrate; '
	  . 'CREATE TABLE grows AS SELECT g AS id, g AS v FROM generate_series(1, 1000) g; '
	  . 'ALTER TABLE grows ADD PRIMARY KEY (id)');

my $base = PostgreSQL::Test::Utils::tempdir();
my $old = time() - 3600;
# the two texts of 003 have the same size: a rewrite, and a constant default
my $volatile = "ALTER TABLE grows ADD COLUMN note int DEFAULT random()::int;\n";
my $constant = "ALTER TABLE grows ADD COLUMN note int DEFAULT 7;            \n";
is(length($constant), length($volatile), 'the edit keeps the size');
my $dir = write_set("$base/plan",
	'001_grows_v.sql' => "CREATE INDEX grows_v ON grows (v);\n",
	'002_grows_v_not_null.sql' => "ALTER TABLE grows ALTER COLUMN v SET NOT NULL;\n",
	'003_grows_note.sql' => $volatile);
utime $old, $old, glob("$dir/*.sql") or die "utime: $!";
# a file is kept once its change time (now: no program can set it back)
# lies two seconds before its reading
sleep 3;

my $plan = "SELECT string_agg(filename || ' ' || effect || ' ' || relation_bytes"
  . " || ' ' || (relation_bytes = pg_total_relation_size(relation))"
  . " || ' {' || array_to_string(blockers, ',') || '}', '; ' ORDER BY filename, line)"
  . " FROM morgenmigrate.migrate_plan('$dir')";
my $kept = "SELECT count(*) FROM pg_backend_memory_contexts"
  . " WHERE name = 'morgenmigrate cached script'";

# The plan rows of one call: filename => [effect, bytes, bytes are the
# table's size now, blockers].
sub rows_of
{
	my ($out) = @_;
	my %rows;
	for (split /; /, $out)
	{
		my ($file, $effect, $bytes, $now, $blockers) = split / /;
		$rows{$file} = [ $effect, $bytes, $now, $blockers ];
	}
	return \%rows;
}

my $session = $node->background_psql('postgres');
my $first = rows_of($session->query_safe($plan));
my $second = rows_of($session->query_safe($plan));
is($session->query_safe($kept), '3', 'from its second call the session keeps the three files');
my $third = rows_of($session->query_safe($plan));
is_deeply($third, $second, 'a plan from what is kept is the plan read from the files');
is_deeply($first, $second, 'and the first call agrees');
is($third->{'001_grows_v.sql'}[0], 'index', '001 builds an index');
is($third->{'002_grows_v_not_null.sql'}[0], 'scan', '002 reads every row');
is($third->{'003_grows_note.sql'}[0], 'rewrite', '003 rewrites the table');
is($third->{'001_grows_v.sql'}[2], 'true', 'the size is the table size');

# the same size, the old modification time: only the change time moves
open my $fh, '>', "$dir/003_grows_note.sql" or die;
print $fh $constant;
close $fh;
utime $old, $old, "$dir/003_grows_note.sql" or die "utime: $!";
my $edited = rows_of($session->query_safe($plan));
is($edited->{'003_grows_note.sql'}[0], 'catalog',
	'a file edited to the same size with its modification time put back is planned anew');
is($edited->{'002_grows_v_not_null.sql'}[0], 'scan', 'the other files as before');

# the catalog changes between two calls, from another session
my $other = $node->background_psql('postgres');
$other->query_safe(q{
	INSERT INTO grows SELECT g, g FROM generate_series(1001, 20000) g;
	CREATE INDEX grows_id_v ON grows (id, v);
	ALTER TABLE grows ADD CONSTRAINT grows_v_set CHECK (v IS NOT NULL);
});
# and a reader comes to hold its lock, in the way of AccessExclusiveLock
my $reader_pid = $other->query_safe('SELECT pg_backend_pid()');
$other->query_safe('BEGIN');
$other->query_safe('SELECT count(*) FROM grows');
my $after = rows_of($session->query_safe($plan));
cmp_ok($after->{'001_grows_v.sql'}[1], '>', $edited->{'001_grows_v.sql'}[1],
	'a table grown, an index added: the size is read again');
is($after->{'001_grows_v.sql'}[2], 'true', 'and is the table size now');
is($after->{'002_grows_v_not_null.sql'}[0], 'catalog',
	'a CHECK (v IS NOT NULL) added: SET NOT NULL is classified again');
is($edited->{'002_grows_v_not_null.sql'}[3], '{}', 'no blocker before');
is($after->{'002_grows_v_not_null.sql'}[3], "{$reader_pid}", 'a blocker that appeared is named');
is($after->{'003_grows_note.sql'}[3], "{$reader_pid}", 'on every statement it stands in the way of');
is($after->{'001_grows_v.sql'}[3], '{}', 'but not on one its lock does not conflict with');
$other->query_safe('COMMIT');

# A directory whose runner its markers tell (goose): what is kept of its
# files is used too.  Each file holds some 200 kB of comments, so that a
# plan that read them again would read that much: the bytes the backend
# reads (rchar of /proc/self/io) in a third plan stay below one file's.
my $comment = ("-- " . ('x' x 96) . "\n") x 2000;
my $goose = write_set("$base/goose",
	map { (sprintf('%03d_g%d.sql', $_, $_) =>
		  "-- +goose Up\n${comment}CREATE TABLE g$_ (id int);\n") } 1 .. 3);
utime $old, $old, glob("$goose/*.sql") or die "utime: $!";
sleep 3;
my $read = q{SELECT substring(pg_read_file('/proc/self/io') from 'rchar: ([0-9]+)')};
my $goose_plan = "SELECT count(*) FROM morgenmigrate.migrate_plan('$goose')";
is($session->query_safe($goose_plan), '3', 'a goose directory: planned');
is($session->query_safe($goose_plan), '3', 'twice');
my $before = $session->query_safe($read);
is($session->query_safe($goose_plan), '3', 'a third time');
my $read_bytes = $session->query_safe($read) - $before;
note("bytes read by the third plan: $read_bytes");
cmp_ok($read_bytes, '<', length($comment),
	'the third plan of a goose directory reads none of its files again');
# a file whose times do not lie two seconds back (here: in the future) is
# read again by every plan, and not kept
my $future = time() + 3600;
utime $future, $future, "$goose/001_g1.sql" or die "utime: $!";
is($session->query_safe($goose_plan), '3', 'a file of the future: planned');
$before = $session->query_safe($read);
is($session->query_safe($goose_plan), '3', 'and again');
$read_bytes = $session->query_safe($read) - $before;
note("bytes read by the plan after: $read_bytes");
ok($read_bytes >= length($comment) && $read_bytes < 3 * length($comment),
	'a file too new to tell from a later write is read again (its inspection and its plan), and only it');

# Many files: a CREATE TABLE of 30 columns each, some 40 kB of parse trees,
# 1,200 of them (some 48 MB, were it not bounded), planned twice in one
# session, then 1,200 others.
my $columns = join(",\n", map { "    c$_ numeric(12,2) NOT NULL DEFAULT 0 CHECK (c$_ >= 0)" } 1 .. 30);
for my $set (1, 2)
{
	mkdir "$base/many$set" or die;
	for my $f (1 .. 1200)
	{
		my $name = sprintf("%04d_wide_%d.sql", $f, $f);
		open my $w, '>', "$base/many$set/$name" or die;
		print $w "CREATE TABLE wide_${set}_$f (\n    id bigint PRIMARY KEY,\n$columns\n);\n";
		close $w;
	}
	utime $old, $old, glob("$base/many$set/*.sql") or die "utime: $!";
}
sleep 3;
my $kept_bytes = "SELECT coalesce(sum(total_bytes), 0) || ' ' || count(*) FROM pg_backend_memory_contexts"
  . " WHERE name = 'morgenmigrate cached script'";
my $rows = "SELECT count(*) FROM morgenmigrate.migrate_plan('$base/many1')";
is($session->query_safe($rows), '1200', 'the first plan of many files');
is($session->query_safe($rows), '1200', 'the second');
my ($bytes1, $count1) = split / /, $session->query_safe($kept_bytes);
is($session->query_safe($rows), '1200', 'the third, from what is kept and what is not');
my ($bytes1b, $count1b) = split / /, $session->query_safe($kept_bytes);
note("kept: $count1 scripts, $bytes1 bytes; then $count1b, $bytes1b");
cmp_ok($bytes1, '<=', 16 * 1024 * 1024, 'what is kept takes at most 16 MB');
cmp_ok($count1, '>', 100, 'many files are kept all the same');
cmp_ok($count1, '<', 1200, 'but not all');
is($count1b, $count1, 'a call does not push out what it used itself');
my $rows2 = "SELECT count(*) FROM morgenmigrate.migrate_plan('$base/many2')";
is($session->query_safe($rows2), '1200', 'another directory');
is($session->query_safe($rows2), '1200', 'twice');
my ($bytes2, $count2) = split / /, $session->query_safe($kept_bytes);
note("after another directory: $count2 scripts, $bytes2 bytes");
cmp_ok($bytes2, '<=', 16 * 1024 * 1024, 'and stays within the bound');

$other->quit;
$session->quit;
$node->stop;
done_testing();
