# Files of many statements (data loads of tens of thousands of INSERTs):
# the server parses such a file a piece at a time, cutting it at a
# semicolon between statements, so that the parse trees of all its
# statements never exist at once.  A user sees none of that: each case
# here is a file of over a megabyte whose meaning depends on reading it
# whole.
# - A SQL-standard function body (BEGIN ATOMIC) and a rule's actions, whose
#   semicolons end no statement, lying across the places where the file
#   would be cut: the function and the rule work as written.
# - A syntax error far into the file: its message and its line, and
#   nothing of the file stays.
# - COPY FROM STDIN with its data far into the file: refused as that COPY
#   (the data is no syntax error of the file), nothing stays.
# - A file wrapped in BEGIN ... COMMIT: the wrapper is dropped; a file that
#   opens with BEGIN and has no COMMIT is refused at its BEGIN.
# - A statement the preflight refuses early and a syntax error late: the
#   syntax error is what is reported, as for a file read whole.
# - Random files of such statements, each logging its number: all run once,
#   in order; a syntax error put anywhere is reported at its line.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('large_files');
$node->init;
$node->start;

my $n = 0;

# A new database with the extension; returns its name.
sub new_db
{
	my $db = 'large_' . ++$n;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, 'CREATE EXTENSION morgenmigrate');
	return $db;
}

# A directory holding one file 001_load.sql with TEXT; returns its path.
sub one_file
{
	my ($text) = @_;
	my $dir = PostgreSQL::Test::Utils::tempdir();
	open my $fh, '>', "$dir/001_load.sql" or die $!;
	print $fh $text;
	close $fh;
	return $dir;
}

# INSERT statements from FROM to TO, one per line, into table T.
sub inserts
{
	my ($t, $from, $to) = @_;
	return join('', map { "INSERT INTO $t VALUES ($_, 'row number $_');\n" } $from .. $to);
}

# Applies DIR in DB; returns psql's (rc, stdout, stderr).
sub apply
{
	my ($db, $dir) = @_;
	return $node->psql($db, "SELECT count(*) FROM morgenmigrate.migrate_apply('$dir')",
		extra_params => [ '-v', 'VERBOSITY=verbose' ]);
}

# What a failed call must leave: no history, none of the file's tables.
sub nothing_stays
{
	my ($db, $what) = @_;
	is($node->safe_psql($db,
			q{SELECT (SELECT count(*) FROM morgenmigrate.schema_migrations) || ','
			  || (to_regclass('rows') IS NULL)}),
		'0,true', "$what: no history, and the table the file created first is not there");
}

# 1. bodies whose semicolons end no statement, across the places where a
# piece may end: 5,000 statements (about 230 kB), a function of 2,000
# statements, 20,000 statements, a rule of 2,000 actions, 5,000 more; over
# a megabyte in all
{
	my $db = new_db();
	my $text = "CREATE TABLE rows (id integer, note text);\n"
	  . "CREATE TABLE atomic_log (id integer);\n"
	  . inserts('rows', 1, 5000)
	  . "CREATE FUNCTION fill_log() RETURNS bigint LANGUAGE sql\nBEGIN ATOMIC\n"
	  . join('', map { "  INSERT INTO atomic_log VALUES ($_);\n" } 1 .. 2000)
	  . "  SELECT count(*) FROM atomic_log;\nEND;\n"
	  . inserts('rows', 5001, 25000)
	  . "CREATE TABLE ruled (id integer);\nCREATE TABLE rule_log (id integer);\n"
	  . "CREATE RULE log_ruled AS ON INSERT TO ruled DO ALSO (\n"
	  . join('', map { "  INSERT INTO rule_log VALUES ($_);\n" } 1 .. 2000)
	  . ");\n"
	  . inserts('rows', 25001, 30000);
	cmp_ok(length($text), '>', 1024 * 1024, 'the file is over a megabyte');
	my ($rc, $out, $err) = apply($db, one_file($text));
	is($rc, 0, 'bodies across pieces: applied') or diag($err);
	is($node->safe_psql($db, 'SELECT count(*), count(DISTINCT id), min(id), max(id) FROM rows'),
		'30000|30000|1|30000', 'every INSERT ran once');
	is($node->safe_psql($db, 'SELECT fill_log()'), '2000',
		'the function has all 2,000 statements of its body');
	$node->safe_psql($db, 'INSERT INTO ruled VALUES (1)');
	is($node->safe_psql($db, 'SELECT count(*), sum(id) FROM rule_log'), '2000|2001000',
		'the rule has all 2,000 actions');
}

# 2. a syntax error at line 25,002 of 30,001
{
	my $db = new_db();
	my $text = "CREATE TABLE rows (id integer, note text);\n"
	  . inserts('rows', 1, 25000)
	  . "INSERT INTO rows VALUES (1, 'x') oops;\n"
	  . inserts('rows', 25001, 30000);
	my ($rc, $out, $err) = apply($db, one_file($text));
	isnt($rc, 0, 'a late syntax error: the call fails');
	like($err, qr/ERROR:  42601: syntax error at or near "oops"/, 'a late syntax error: its message');
	like($err, qr/CONTEXT:  migration "001_load\.sql", line 25002$/m, 'a late syntax error: its line');
	nothing_stays($db, 'a late syntax error');
}

# 3. COPY FROM STDIN with its data at line 25,002
{
	my $db = new_db();
	my $text = "CREATE TABLE rows (id integer, note text);\n"
	  . inserts('rows', 1, 25000)
	  . "COPY rows FROM stdin;\n1\tone\n2\ttwo\n\\.\n"
	  . inserts('rows', 25001, 26000);
	my ($rc, $out, $err) = apply($db, one_file($text));
	isnt($rc, 0, 'late COPY data: the call fails');
	like($err, qr/ERROR:  0A000: COPY FROM STDIN is not supported in a migration file/,
		'late COPY data: refused as the COPY it is');
	like($err, qr/CONTEXT:  migration "001_load\.sql", line 25002$/m, 'late COPY data: the COPY\'s line');
	nothing_stays($db, 'late COPY data');
}

# 4. BEGIN ... COMMIT around 30,000 statements; and BEGIN without COMMIT
{
	my $db = new_db();
	my $body = "CREATE TABLE rows (id integer, note text);\n" . inserts('rows', 1, 30000);
	my ($rc, $out, $err) = apply($db, one_file("BEGIN;\n$body" . "COMMIT;\n"));
	is($rc, 0, 'a wrapped file: applied') or diag($err);
	like($err, qr/NOTICE:  00000: ignoring the BEGIN and COMMIT in 1 migration file/,
		'a wrapped file: its BEGIN and COMMIT are dropped, as for a small file');
	is($node->safe_psql($db, 'SELECT count(*) FROM rows'), '30000', 'a wrapped file: every row');

	$db = new_db();
	($rc, $out, $err) = apply($db, one_file("BEGIN;\n$body"));
	isnt($rc, 0, 'BEGIN without COMMIT: the call fails');
	like($err, qr/ERROR:  2D000: BEGIN is not allowed in a migration file/,
		'BEGIN without COMMIT: the BEGIN is refused');
	like($err, qr/CONTEXT:  migration "001_load\.sql", line 1$/m, 'BEGIN without COMMIT: at line 1');
	nothing_stays($db, 'BEGIN without COMMIT');
}

# 5. a refused statement at line 2, a syntax error at line 30,002
{
	my $db = new_db();
	my $text = "CREATE TABLE rows (id integer, note text);\n"
	  . "VACUUM rows;\n"
	  . inserts('rows', 1, 30000)
	  . "SELEC 1;\n";
	my ($rc, $out, $err) = apply($db, one_file($text));
	isnt($rc, 0, 'a refusal early, a syntax error late: the call fails');
	like($err, qr/ERROR:  42601: syntax error at or near "SELEC"/,
		'a refusal early, a syntax error late: the syntax error is reported');
	like($err, qr/CONTEXT:  migration "001_load\.sql", line 30003$/m,
		'a refusal early, a syntax error late: at its line');
	nothing_stays($db, 'a refusal early, a syntax error late');

	# without the syntax error, the refusal
	$text =~ s/SELEC 1;\n$//;
	($rc, $out, $err) = apply($db, one_file($text));
	like($err, qr/ERROR:  25001: VACUUM cannot run inside a transaction block/,
		'the refusal alone: reported');
	like($err, qr/CONTEXT:  migration "001_load\.sql", line 2$/m, 'the refusal alone: at its line');
	nothing_stays($db, 'the refusal alone');
}

# 6. random files of 600 units each (over 300 kB), every unit a statement
# whose semicolons are hard to tell from the ones that end it (in
# strings, quoted names, dollar-quoted bodies, comments, a BEGIN ATOMIC
# body, a rule's actions) and that logs its number: every unit must run
# once, in order, wherever the pieces end; with a syntax error put into
# one unit, the error names that unit's line.  MM_LARGE_SEED picks other
# files.
my $seed = $ENV{MM_LARGE_SEED} // 20261207;
srand($seed);
note "seed $seed (MM_LARGE_SEED)";

# Unit K: its text and the number of lines it spans.
sub unit
{
	my ($k) = @_;
	my $pad = 'p' x int(rand(900));
	my @kinds = (
		"INSERT INTO ulog VALUES ($k, 'a;b''c;\n;d $pad');\n",
		"INSERT INTO ulog VALUES ($k, E'x\\';y;\\n$pad');\n",
		"-- a comment; with ; semicolons $pad\nINSERT INTO ulog VALUES ($k, 'after a comment');\n",
		"/* a block; /* nested; */ comment; $pad */ INSERT INTO ulog VALUES ($k, 'after a block');\n",
		"DO \$body\$ BEGIN INSERT INTO ulog VALUES ($k, 'do;'); PERFORM 1; END \$body\$;\n",
		"CREATE TABLE \"t;$k\" (\"c;\" text);\nINSERT INTO ulog VALUES ($k, 'quoted;name');\n",
		"CREATE FUNCTION f$k() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n"
		  . join('', map { "  SELECT $_;\n" } 1 .. 1 + int(rand(300)))
		  . "  INSERT INTO ulog VALUES ($k, 'atomic') RETURNING 1;\nEND;\nSELECT f$k();\n",
		"CREATE TABLE r$k (id int);\nCREATE RULE r$k AS ON INSERT TO r$k DO ALSO (\n"
		  . join('', map { "  SELECT $_;\n" } 1 .. 1 + int(rand(200)))
		  . "  INSERT INTO ulog VALUES ($k, 'rule')\n);\nINSERT INTO r$k VALUES (1);\n",
		"INSERT INTO ulog VALUES ($k, \$q\$dollar; quoted; $pad\$q\$);\n",
	);
	my $text = $kinds[ int(rand(@kinds)) ];
	return $text;
}

for my $round (1 .. 3)
{
	my @units = map { unit($_) } 1 .. 600;
	my $head = "CREATE TABLE ulog (k integer, note text, n bigserial);\n";
	my $text = $head . join('', @units);
	my $db = new_db();
	my ($rc, $out, $err) = apply($db, one_file($text));
	is($rc, 0, "random file $round (" . length($text) . " bytes): applied") or diag($err);
	is($node->safe_psql($db, q{SELECT string_agg(k::text, ',' ORDER BY n) FROM ulog}),
		join(',', 1 .. 600), "random file $round: every unit ran once, in order");

	# a syntax error in a unit drawn at random: its line
	my $bad = 1 + int(rand(600));
	my $line = 1 + ($head =~ tr/\n//);
	$line += ($units[$_ - 1] =~ tr/\n//) for 1 .. $bad - 1;
	$units[ $bad - 1 ] = "SELEC $bad;\n" . $units[ $bad - 1 ];
	$db = new_db();
	($rc, $out, $err) = apply($db, one_file($head . join('', @units)));
	like($err, qr/ERROR:  42601: syntax error at or near "SELEC"/,
		"random file $round, an error in unit $bad: reported");
	like($err, qr/CONTEXT:  migration "001_load\.sql", line $line$/m,
		"random file $round, an error in unit $bad: at line $line");
	is($node->safe_psql($db, q{SELECT to_regclass('ulog') IS NULL}), 't',
		"random file $round, an error in unit $bad: nothing stays");
}

$node->stop;
done_testing();
