# Fuzzing migrate_apply: generated files of random bytes,
# truncated and mutated SQL, unbalanced dollar quotes and comments, deeply
# nested parentheses, huge identifiers and broken directives go through
# migrate_apply one file per call, each call rolled back.  The server must
# never crash (no "terminated by signal" in its log, still accepting
# connections) and every call must end in success or a clean error: an
# ERROR with a SQLSTATE that is not XX000 (internal error), with a CONTEXT
# line naming the file, and without an error cursor in the caller's query.
#
# Deterministic: the files come from a fixed seed.  CI runs 300 files;
#   MM_FUZZ_LONG=1 PROVE_TESTS=test/t/045_fuzz.pl scripts/test.sh tap
# runs 3000 (MM_FUZZ_SEED=n picks another seed).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $nfiles = $ENV{MM_FUZZ_LONG} ? 3000 : 300;
my $seed = $ENV{MM_FUZZ_SEED} // 20261121;

my $node = PostgreSQL::Test::Cluster->new('fuzz');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE fuzz');
$node->safe_psql('fuzz', 'CREATE EXTENSION morgenmigrate');

# xorshift32: the same numbers on every machine and perl
my $state = $seed & 0xffffffff || 1;
sub rnd
{
	my ($n) = @_;
	$state ^= ($state << 13) & 0xffffffff;
	$state ^= $state >> 17;
	$state ^= ($state << 5) & 0xffffffff;
	return $state % $n;
}
sub pick { return $_[ rnd(scalar @_) ] }

my @corpus = (
	"CREATE TABLE fz_t (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL DEFAULT 'x;y', data jsonb);\n",
	"CREATE INDEX fz_t_name_idx ON fz_t (name);\n",
	"INSERT INTO fz_t (name, data) VALUES ('a', '{\"k\": [1,2,3]}'), (\$q\$b;c\$q\$, NULL);\n",
	"CREATE FUNCTION fz_f(x int) RETURNS int LANGUAGE plpgsql AS \$body\$\nBEGIN /* c; */ RETURN x + 1; -- ;\nEND \$body\$;\n",
	"DO \$\$ BEGIN PERFORM 1; IF true THEN RAISE NOTICE 'semi;colon'; END IF; END \$\$;\n",
	"CREATE VIEW fz_v AS SELECT id, upper(name) AS u FROM fz_t WHERE name <> E'\\'';\n",
	"COMMENT ON TABLE fz_t IS 'it''s';\n",
	"ALTER TABLE fz_t ADD COLUMN c2 numeric(10,2) CHECK (c2 > 0);\n",
	"CREATE TYPE fz_mood AS ENUM ('sad', 'ok');\n",
	"SELECT U&'\\0041', B'101', X'1F', 1.5e10, \$\$dollar\$\$, E'\\x41';\n",
	"/* nested /* comment */ still */ SELECT 1;\n",
	"-- morgenmigrate: lock_timeout=1s statement_timeout=5s retries=1\n",
	"BEGIN;\n",
	"COMMIT;\n",
	"SELECT \$a\$ \$b\$ inner \$b\$ \$a\$;\n",
	"CREATE TABLE fz_p (a int, b text) PARTITION BY RANGE (a);\nCREATE TABLE fz_p1 PARTITION OF fz_p FOR VALUES FROM (0) TO (10);\n",
	"WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 50) SELECT sum(n) FROM r;\n",
	"CREATE TRIGGER fz_trg BEFORE INSERT ON fz_t FOR EACH ROW EXECUTE FUNCTION fz_nothing();\n",
	"SET LOCAL search_path = nowhere; SELECT 1;\n",
	"\\i other.sql\n",
	"COPY fz_t FROM STDIN;\n1\tx\n\\.\n",
	"CREATE INDEX CONCURRENTLY fz_c ON fz_t (id);\n",
	"VACUUM fz_t;\n",
	"SAVEPOINT s; ROLLBACK TO s;\n",
	"SELECT 'unterminated;\n",
	"SELECT 1 /* unterminated comment;\n",
	"CREATE FUNCTION fz_g() RETURNS void LANGUAGE sql AS \$\$ SELECT 1 \$\$;\n",
);

my @generators = (
	# random bytes
	sub { join '', map { chr(rnd(256)) } 1 .. rnd(3000) },
	# random printable ASCII and newlines
	sub { join '', map { my $c = rnd(97); $c == 96 ? "\n" : chr(32 + $c) } 1 .. rnd(2000) },
	# SQL from the corpus, truncated anywhere
	sub {
		my $s = join '', map { pick(@corpus) } 1 .. 1 + rnd(6);
		substr($s, 0, rnd(length($s) + 1));
	},
	# SQL from the corpus with bytes flipped, inserted or deleted
	sub {
		my $s = join '', map { pick(@corpus) } 1 .. 1 + rnd(6);
		for (1 .. 1 + rnd(8))
		{
			my $at = rnd(length($s) + 1);
			my $op = rnd(3);
			if ($op == 0) { substr($s, $at, 1) = chr(rnd(256)) if $at < length $s }
			elsif ($op == 1) { substr($s, $at, 0) = pick(qw(' " $ $$ $x$ ; /* */ -- ( ) \\ E' U&' \x00), "\r\n", "\xef\xbb\xbf", "\xe9") }
			else { substr($s, $at, 1 + rnd(10)) = '' if $at < length $s }
		}
		$s;
	},
	# unbalanced dollar quotes
	sub {
		my $tag = pick('', 'a', 'body', 'x_1', "\xc3\xa9");
		pick("SELECT \$$tag\$ never closed;\n",
			"CREATE FUNCTION fz_u() RETURNS int LANGUAGE sql AS \$$tag\$ SELECT 1; \$other\$;\n",
			"DO \$$tag\$ BEGIN \$\$ END; \$${tag}x\$;\n",
			"SELECT \$$tag\$ \$$tag\$ \$$tag\$;\n") x (1 + rnd(3));
	},
	# unbalanced and deeply nested comments
	sub {
		my $n = 1 + rnd(5000);
		pick(('/*' x $n) . ' SELECT 1; ' . ('*/' x ($n - rnd(2))),
			"SELECT 1; /* open\n" x (1 + rnd(50)),
			"*/ SELECT 1;\n",
			"-- only a comment\n" x (1 + rnd(1000)));
	},
	# deeply nested parentheses, balanced or not
	sub {
		my $n = 1 + rnd(20000);
		pick('SELECT ' . ('(' x $n) . '1' . (')' x $n) . ";\n",
			'SELECT ' . ('(' x $n) . '1' . (')' x rnd($n + 1)) . ";\n",
			'SELECT ' . ('ARRAY[' x ($n % 3000)) . '1' . (']' x ($n % 3000)) . ";\n",
			'SELECT ' . ('-' x $n) . "1;\n",
			'SELECT 1' . (' + 1' x $n) . ";\n");
	},
	# huge identifiers and literals
	sub {
		my $n = 1 + rnd(200000);
		pick("CREATE TABLE " . ('t' x $n) . " (id int);\n",
			"CREATE TABLE \"" . ('q' x $n) . "\" (\"" . ("\xc3\xa9" x ($n % 1000)) . "\" int);\n",
			"SELECT '" . ('x' x $n) . "';\n",
			"SELECT " . ('9' x ($n % 5000 + 1)) . ";\n",
			"SELECT \$\$" . ('y' x $n) . "\$\$;\n");
	},
	# broken directives
	sub {
		"-- morgenmigrate: " . pick('lock_timeout=', 'retries=-1', 'retries=101',
			'statement_timeout=1parsec', 'lock_timeout=99999999999', '=5', 'retries',
			'lock_timeout=1s lock_timeout=2s', "retries=1\xe9", 'statement_timeout=0')
		  . "\nSELECT 1;\n";
	},
);

my $root = PostgreSQL::Test::Utils::tempdir();
my $script = "\\set VERBOSITY verbose\nSET statement_timeout = '20s';\n";
for my $i (1 .. $nfiles)
{
	my $d = sprintf('%s/f%05d', $root, $i);
	mkdir $d or die "mkdir $d: $!";
	my $bytes = $generators[ rnd(scalar @generators) ]->();
	open my $fh, '>:raw', "$d/001_fuzz.sql" or die $!;
	print $fh $bytes;
	close $fh;
	my $args = rnd(3) == 0 ? ', dry_run => true' : rnd(4) == 0 ? ', atomic => false' : '';
	$script .= "\\echo '#case $i'\n\\warn '#case $i'\n"
	  . "BEGIN;\nSELECT count(*) FROM morgenmigrate.migrate_apply('$d'$args);\nROLLBACK;\n";
}
$script .= "\\echo '#end'\n\\warn '#end'\n";

my ($out, $err) = ('', '');
my $ok = IPC::Run::run(
	[ 'psql', '-X', '-q', '-A', '-t', '-d', $node->connstr('fuzz') ],
	'<', \$script, '>', \$out, '2>', \$err);
ok($ok, "psql ran all $nfiles calls without losing its connection");

# split both streams by case
my (%stdout, %stderr);
sub split_cases
{
	my ($text, $into) = @_;
	my $cur = 0;
	for my $line (split /\n/, $text)
	{
		if ($line =~ /^#case (\d+)$/) { $cur = $1; next }
		if ($line eq '#end') { $cur = 'end'; next }
		$into->{$cur} .= "$line\n";
	}
}
split_cases($out, \%stdout);
split_cases($err, \%stderr);
ok(exists $stdout{end} || $out =~ /^#end$/m, 'every call returned');

my ($succeeded, $errors, @unclean, @uncontexted) = (0, 0);
my %sqlstates;
for my $i (1 .. $nfiles)
{
	my $e = $stderr{$i} // '';
	my $o = $stdout{$i} // '';
	my @errs = $e =~ /^(?:psql:[^\n]*?)?ERROR:  ([0-9A-Z]{5}): /mg;
	if ($e =~ /^(FATAL|PANIC):|server closed the connection|connection to server was lost/m)
	{
		push @unclean, "case $i: $e";
	}
	elsif (@errs)
	{
		# the SELECT's error; the ROLLBACK after it is fine
		if (grep { $_ eq 'XX000' } @errs) { push @unclean, "case $i: $e" }
		# an error of the file must name it and its line, and must not
		# point a cursor into the caller's query
		# (after any context lines of its own, e.g. a DO block's)
		elsif ($e !~ /^(?:CONTEXT:  )?migration "001_fuzz.sql"(, line \d+)?$/m
			|| $e =~ /^LINE \d+: /m)
		{
			push @uncontexted, "case $i: $e";
		}
		else { $errors++; $sqlstates{$errs[0]}++ }
	}
	elsif ($o =~ /^\d+$/m) { $succeeded++ }
	else { push @unclean, "case $i: no result: stdout '$o' stderr '$e'" }
}
is(scalar(@unclean), 0, 'every call ended in success or a clean error')
  or diag(join "\n", @unclean[ 0 .. ($#unclean < 9 ? $#unclean : 9) ]);
is(scalar(@uncontexted), 0, 'every error names the file and line, with no cursor in the caller\'s query')
  or diag(join "\n", @uncontexted[ 0 .. ($#uncontexted < 4 ? $#uncontexted : 4) ]);
note "$succeeded calls succeeded, $errors ended in a clean error; SQLSTATEs: "
  . join(', ', map { "$_ x$sqlstates{$_}" } sort keys %sqlstates);
cmp_ok($succeeded, '>', 0, 'some files applied (the generators are not all noise)');
cmp_ok($errors, '>', 0, 'some files failed (the generators do produce broken input)');

is($node->safe_psql('fuzz', 'SELECT 1'), '1', 'the server still accepts connections');
my $log = slurp_file($node->logfile);
# "server process" up to 17, the process type ("client backend") in 18
unlike($log, qr/terminated by signal|PANIC|(?:server process|client backend) .* exited with exit code/,
	'no backend crashed');
is($node->safe_psql('fuzz', q{
	SELECT (SELECT count(*) FROM morgenmigrate.schema_migrations) +
	       (SELECT count(*) FROM morgenmigrate.migration_errors) +
	       (SELECT count(*) FROM pg_class WHERE relname LIKE 'fz\_%')}),
	'0', 'the rolled-back calls left nothing behind');

$node->stop;
done_testing();
