# Hostile and broken input: a table of cases, each with
# its set-up, the SQLSTATE and a message that names the problem, and a check
# that nothing changed (no new relation, no history row, no recorded
# failure).  The cases that must apply (FIFOs and directories named x.sql
# skipped, CRLF and BOM files, odd file names) check what was recorded.
use strict;
use warnings;

use Digest::SHA qw(sha256_hex);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use POSIX qw(mkfifo);
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('hostile');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION morgenmigrate');
$ENV{PGCLIENTENCODING} = 'UTF8';

my $root = PostgreSQL::Test::Utils::tempdir();
my $ndirs = 0;

# A new directory holding the given files (name => bytes).
sub new_dir
{
	my (%files) = @_;
	my $d = sprintf('%s/case%02d', $root, ++$ndirs);
	mkdir $d or die "mkdir $d: $!";
	write_file("$d/$_", $files{$_}) for keys %files;
	return $d;
}

sub write_file
{
	my ($path, $bytes) = @_;
	open my $fh, '>:raw', $path or die "open $path: $!";
	print $fh $bytes;
	close $fh;
}

# Runs SQL with verbose errors (the SQLSTATE in each ERROR line).
sub run
{
	my ($sql) = @_;
	my ($out, $err);
	my $rc = $node->psql('postgres', $sql, stdout => \$out, stderr => \$err,
		extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	return ($rc, $out, $err);
}

sub lit
{
	my ($s) = @_;
	$s =~ s/'/''/g;
	return "'$s'";
}

# What a call could change: every relation outside the catalogs, the
# history and the recorded failures.
my $state_q = q{
	SELECT (SELECT coalesce(string_agg(c.relname, ',' ORDER BY c.relname), '')
	          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')) || ';' ||
	       (SELECT coalesce(string_agg(filename || ':' || checksum, ',' ORDER BY filename), '')
	          FROM morgenmigrate.schema_migrations) || ';' ||
	       (SELECT count(*) FROM morgenmigrate.migration_errors)};

# Drops what the cases applied.
sub reset_db
{
	$node->safe_psql('postgres', q{
		DO $$
		DECLARE r record;
		BEGIN
		    FOR r IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' LOOP
		        EXECUTE format('DROP TABLE public.%I CASCADE', r.tablename);
		    END LOOP;
		END $$;
		TRUNCATE morgenmigrate.schema_migrations, morgenmigrate.migration_errors});
}

# The history: recorded file names as hex bytes, with their checksums.
sub history
{
	return $node->safe_psql('postgres', q{
		SELECT string_agg(encode(convert_to(filename, 'UTF8'), 'hex') || ':' || checksum, ','
		                  ORDER BY applied_at)
		  FROM morgenmigrate.schema_migrations});
}

sub hist_entry
{
	my ($name, $text) = @_;
	return unpack('H*', $name) . ':' . sha256_hex($text);
}

my $apply = sub { "SELECT filename, status FROM morgenmigrate.migrate_apply(" . lit($_[0]) . ")" };
my $ok_file = "CREATE TABLE hostile_ok (id integer);\n";

# Each case: name, set-up returning the SQL to run, and either an expected
# error (sqlstate, message regex) or a check of a successful run.
my @cases = (
	{
		name => 'missing directory',
		setup => sub { $apply->("$root/does/not/exist") },
		sqlstate => '58P01',
		msg => qr/could not open migration directory ".*\/does\/not\/exist": No such file or directory/,
	},
	{
		name => 'relative path',
		setup => sub { $apply->('migrations/app') },
		sqlstate => '22023',
		msg => qr/migration directory "migrations\/app" is not an absolute path/,
	},
	{
		name => 'empty path',
		setup => sub { $apply->('') },
		sqlstate => '22023',
		msg => qr/migration directory "" is not an absolute path/,
	},
	{
		name => 'a file instead of a directory',
		setup => sub { my $d = new_dir('001_x.sql' => $ok_file); $apply->("$d/001_x.sql") },
		sqlstate => '42809',
		msg => qr/migration directory ".*001_x.sql" is not a directory/,
	},
	{
		name => 'an unreadable directory',
		setup => sub {
			my $d = new_dir('001_x.sql' => $ok_file);
			chmod 0000, $d;
			$apply->($d);
		},
		sqlstate => '42501',
		msg => qr/could not open migration directory ".*": Permission denied/,
	},
	{
		name => 'an unreadable file',
		setup => sub {
			my $d = new_dir('001_x.sql' => $ok_file,
				'002_unreadable.sql' => "CREATE TABLE hostile_never (id integer);\n");
			chmod 0000, "$d/002_unreadable.sql";
			$apply->($d);
		},
		sqlstate => '42501',
		msg => qr/could not open migration file ".*002_unreadable.sql": Permission denied/,
	},
	{
		name => 'a dangling symbolic link x.sql',
		setup => sub {
			my $d = new_dir('001_x.sql' => $ok_file);
			symlink("$d/gone.sql", "$d/002_dangling.sql") or die $!;
			$apply->($d);
		},
		sqlstate => '58P01',
		msg => qr/could not stat migration file ".*002_dangling.sql": No such file or directory/,
	},
	{
		name => 'a symbolic link loop',
		setup => sub {
			my $d = new_dir('001_x.sql' => $ok_file);
			symlink("$d/003_loop_b.sql", "$d/002_loop_a.sql") or die $!;
			symlink("$d/002_loop_a.sql", "$d/003_loop_b.sql") or die $!;
			$apply->($d);
		},
		sqlstate => '58P01',
		msg => qr/could not stat migration file ".*_loop_[ab].sql": Too many levels of symbolic links/,
	},
	{
		name => 'invalid UTF-8',
		setup => sub {
			$apply->(new_dir('001_x.sql' => $ok_file,
				'002_latin1.sql' => "-- caf\xe9\nSELECT 1;\n"));
		},
		sqlstate => '22021',
		msg => qr/invalid byte sequence for encoding "UTF8": 0xe9 0x0a(.|\n)*CONTEXT:  migration "002_latin1.sql", line 1/,
	},
	{
		name => 'a NUL byte',
		setup => sub {
			$apply->(new_dir('001_x.sql' => $ok_file,
				'002_nul.sql' => "SELECT 1;\n\nSELECT '\0';\n"));
		},
		sqlstate => '22021',
		msg => qr/invalid byte sequence for encoding "UTF8": 0x00(.|\n)*CONTEXT:  migration "002_nul.sql", line 3/,
	},
	{
		name => 'a binary file',
		setup => sub {
			$apply->(new_dir('001_x.sql' => $ok_file,
				'002_picture.sql' => "\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10"));
		},
		sqlstate => '22021',
		msg => qr/invalid byte sequence for encoding "UTF8": 0x89(.|\n)*migration "002_picture.sql", line 1/,
	},
	{
		name => 'a file larger than morgenmigrate.max_file_size (set to 1kB)',
		setup => sub {
			my $d = new_dir('001_x.sql' => $ok_file,
				'002_big.sql' => "SELECT 1;\n" . ('-- padding' x 200) . "\n");
			"SET morgenmigrate.max_file_size = '1kB';\n" . $apply->($d);
		},
		sqlstate => '54000',
		msg => qr/migration file ".*002_big.sql" is too large\nDETAIL:  The file has 2011 bytes; morgenmigrate.max_file_size allows 1024\./,
	},
	{
		name => 'a psql meta-command',
		setup => sub {
			$apply->(new_dir('001_x.sql' => $ok_file,
				'002_meta.sql' => "SELECT 1;\n\\i other.sql\nSELECT 2;\n"));
		},
		sqlstate => '42601',
		msg => qr/syntax error at or near "\\"(.|\n)*HINT:  Lines starting with a backslash are psql meta-commands(.|\n)*CONTEXT:  migration "002_meta.sql", line 2/,
	},
	{
		name => 'an unknown directive',
		setup => sub {
			$apply->(new_dir('001_x.sql' => $ok_file,
				'002_directive.sql' => "-- morgenmigrate: lock_timout=1s\nSELECT 1;\n"));
		},
		sqlstate => '22023',
		msg => qr/unknown migration directive "lock_timout"(.|\n)*CONTEXT:  migration "002_directive.sql", line 1/,
	},
	{
		name => 'an unknown target',
		setup => sub { "SELECT * FROM morgenmigrate.migrate_apply(" . lit(new_dir('001_x.sql' => $ok_file)) . ", target => 'nope')" },
		sqlstate => '42704',
		msg => qr/migration target "nope" matches no migration file/,
	},
	{
		name => 'a target version that matches nothing',
		setup => sub { "SELECT * FROM morgenmigrate.migrate_apply(" . lit(new_dir('001_x.sql' => $ok_file)) . ", target => '2')" },
		sqlstate => '42704',
		msg => qr/migration target "2" matches no migration file/,
	},
	{
		name => 'a negative steps',
		setup => sub { "SELECT * FROM morgenmigrate.migrate_apply(" . lit(new_dir('001_x.sql' => $ok_file)) . ", steps => -1)" },
		sqlstate => '22023',
		msg => qr/argument "steps" must not be negative/,
	},
	{
		name => 'a negative steps for migrate_rollback',
		setup => sub { "SELECT * FROM morgenmigrate.migrate_rollback(" . lit(new_dir('001_x.sql' => $ok_file)) . ", steps => -5)" },
		sqlstate => '22023',
		msg => qr/argument "steps" must not be negative/,
	},
	{
		name => 'an unknown rollback target',
		setup => sub { "SELECT * FROM morgenmigrate.migrate_rollback(" . lit(new_dir('001_x.sql' => $ok_file)) . ", target => '999')" },
		sqlstate => '42704',
		msg => qr/rollback target "999" matches no applied migration/,
	},
	{
		name => 'forgetting an unknown file',
		setup => sub { "SELECT morgenmigrate.migrate_forget('no_such_file.sql')" },
		sqlstate => '42704',
		msg => qr/migration "no_such_file.sql" is not in the history/,
	},
	{
		name => 'a directory that is a FIFO named like one',
		setup => sub {
			my $d = new_dir();
			mkfifo("$d/app.sql", 0600) or die $!;
			$apply->("$d/app.sql");
		},
		sqlstate => '42809',
		msg => qr/migration directory ".*app.sql" is not a directory/,
	},
	{
		name => 'a FIFO named x.sql (skipped with a WARNING, must not hang)',
		setup => sub {
			my $d = new_dir('001_x.sql' => $ok_file,
				'003_after.sql' => "CREATE TABLE hostile_after (id integer);\n");
			mkfifo("$d/002_fifo.sql", 0600) or die $!;
			$apply->($d);
		},
		check => sub {
			my ($rc, $out, $err) = @_;
			is($rc, 0, 'the call succeeds');
			like($err, qr/WARNING:  01000: ignoring "002_fifo.sql" in migration directory ".*": not a regular file/,
				'the WARNING names the FIFO');
			is($out, "001_x.sql|applied\n003_after.sql|applied", 'the other files apply');
		},
	},
	{
		name => 'a directory named x.sql (ignored)',
		setup => sub {
			my $d = new_dir('001_x.sql' => $ok_file);
			mkdir "$d/002_directory.sql";
			write_file("$d/002_directory.sql/003_inside.sql", "CREATE TABLE hostile_inside (id integer);\n");
			$apply->($d);
		},
		check => sub {
			my ($rc, $out, $err) = @_;
			is($rc, 0, 'the call succeeds');
			is($err, '', 'quietly');
			is($out, '001_x.sql|applied', 'only the file applies, nothing inside the subdirectory');
		},
	},
	{
		name => 'CRLF line ends and a BOM (apply; the checksum is that of the LF text)',
		setup => sub {
			my $lf = "-- two lines\nCREATE TABLE IF NOT EXISTS hostile_crlf (id integer);\n";
			(my $crlf = $lf) =~ s/\n/\r\n/g;
			$apply->(new_dir('001_lf.sql' => $lf, '002_crlf.sql' => $crlf,
				'003_bom.sql' => "\xef\xbb\xbf" . "CREATE TABLE hostile_bom (id integer);\n",
				'004_bom_crlf.sql' => "\xef\xbb\xbf" . "SELECT 1;\r\nSELECT 2;\r\n"));
		},
		check => sub {
			my ($rc, $out, $err) = @_;
			is($rc, 0, 'the call succeeds');
			is($out, "001_lf.sql|applied\n002_crlf.sql|applied\n003_bom.sql|applied\n004_bom_crlf.sql|applied",
				'all four apply');
			my $lf = "-- two lines\nCREATE TABLE IF NOT EXISTS hostile_crlf (id integer);\n";
			is(history(), join(',',
					hist_entry('001_lf.sql', $lf), hist_entry('002_crlf.sql', $lf),
					hist_entry('003_bom.sql', "CREATE TABLE hostile_bom (id integer);\n"),
					hist_entry('004_bom_crlf.sql', "SELECT 1;\nSELECT 2;\n")),
				'the CRLF file has the checksum of its LF text, the BOM files that of the text without BOM');
		},
	},
	{
		name => 'file names with spaces, quotes, semicolons and non-ASCII letters',
		setup => sub {
			$apply->(new_dir(
				'001 with spaces.sql' => "CREATE TABLE hostile_spaces (id integer);\n",
				"002_it's \"quoted\".sql" => "CREATE TABLE hostile_quotes (id integer);\n",
				'003_a;b;DROP TABLE x;.sql' => "CREATE TABLE hostile_semicolons (id integer);\n",
				"004_gr\xc3\xb6\xc3\x9fe_caf\xc3\xa9_\xce\xb4.sql" => "CREATE TABLE hostile_utf8 (id integer);\n",
				'005_$$dollar$$_%s_\\n.sql' => "CREATE TABLE hostile_dollar (id integer);\n"));
		},
		check => sub {
			my ($rc, $out, $err) = @_;
			is($rc, 0, 'the call succeeds');
			is($err, '', 'quietly');
			is(history(), join(',',
					hist_entry('001 with spaces.sql', "CREATE TABLE hostile_spaces (id integer);\n"),
					hist_entry("002_it's \"quoted\".sql", "CREATE TABLE hostile_quotes (id integer);\n"),
					hist_entry('003_a;b;DROP TABLE x;.sql', "CREATE TABLE hostile_semicolons (id integer);\n"),
					hist_entry("004_gr\xc3\xb6\xc3\x9fe_caf\xc3\xa9_\xce\xb4.sql", "CREATE TABLE hostile_utf8 (id integer);\n"),
					hist_entry('005_$$dollar$$_%s_\\n.sql', "CREATE TABLE hostile_dollar (id integer);\n")),
				'every name is recorded verbatim, byte for byte, in version order');
			is($node->safe_psql('postgres', "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'hostile\\_%'"),
				'5', 'each file ran once');
		},
	},
	{
		name => 'a very long file name',
		setup => sub { $apply->(new_dir(('0' x 240) . '1_long.sql' => "SELECT 1;\n")) },
		check => sub {
			my ($rc, $out, $err) = @_;
			is($rc, 0, 'the call succeeds');
			is(history(), hist_entry(('0' x 240) . '1_long.sql', "SELECT 1;\n"), 'the name is recorded whole');
		},
	},
	{
		name => 'an empty directory (a no-op)',
		setup => sub { $apply->(new_dir()) },
		check => sub {
			my ($rc, $out, $err) = @_;
			is($rc, 0, 'the call succeeds');
			is($out, '', 'no rows');
			is($err, '', 'no message');
		},
	},
	{
		name => 'a path with a trailing slash and doubled slashes',
		setup => sub {
			my $d = new_dir('001_x.sql' => $ok_file);
			$d =~ s{/case}{//case};
			$apply->("$d/");
		},
		check => sub {
			my ($rc, $out, $err) = @_;
			is($rc, 0, 'the call succeeds');
			is($out, '001_x.sql|applied', 'the file applies');
		},
	},
	{
		name => 'a down file without its up file',
		setup => sub { $apply->(new_dir('001_x.sql' => $ok_file, '002_gone.down.sql' => "SELECT 1;\n")) },
		check => sub {
			my ($rc, $out, $err) = @_;
			is($rc, 0, 'the call succeeds');
			like($err, qr/WARNING:  01000: down migration "002_gone.down.sql" has no up migration/,
				'the WARNING names the orphan');
			is($out, '001_x.sql|applied', 'the up file applies');
		},
	},
);

for my $case (@cases)
{
	note "case: $case->{name}";
	my $sql = $case->{setup}->();
	my $before = $node->safe_psql('postgres', $state_q);
	my ($rc, $out, $err) = run($sql);
	if ($case->{check})
	{
		subtest $case->{name} => sub { $case->{check}->($rc, $out, $err) };
		reset_db();
	}
	else
	{
		subtest $case->{name} => sub {
			isnt($rc, 0, 'refused');
			like($err, qr/ERROR:  $case->{sqlstate}: $case->{msg}/,
				"SQLSTATE $case->{sqlstate} and a message that names the problem");
			is($node->safe_psql('postgres', $state_q), $before, 'nothing changed');
		};
	}
}
chmod 0700, glob("$root/case*");

# A file that failed, then deleted before the next run: the next run applies
# what is there and records nothing of the deleted file.
{
	my $d = new_dir('001_x.sql' => $ok_file, '002_fails.sql' => "SELECT 1/0;\n");
	my $before = $node->safe_psql('postgres', $state_q);
	my ($rc, $out, $err) = run($apply->($d));
	like($err, qr/ERROR:  22012: division by zero(.|\n)*CONTEXT:  migration "002_fails.sql", line 1/,
		'deleted after a failure: the first run fails in 002');
	is($node->safe_psql('postgres', $state_q), $before, 'deleted after a failure: nothing applied');
	unlink "$d/002_fails.sql";
	($rc, $out, $err) = run($apply->($d));
	is($out, '001_x.sql|applied', 'deleted after a failure: the next run applies 001 alone');
	is(history(), hist_entry('001_x.sql', $ok_file), 'deleted after a failure: the history has 001 only');
	reset_db();

	# the same in non-atomic mode, where the failure is recorded
	$d = new_dir('001_x.sql' => $ok_file, '002_fails.sql' => "SELECT 1/0;\n");
	($rc, $out, $err) = run("SELECT filename, status FROM morgenmigrate.migrate_apply(" . lit($d) . ", atomic => false)");
	is($out, "001_x.sql|applied\n002_fails.sql|failed", 'non-atomic: 001 applies, 002 fails');
	write_file("$d/002_fails.sql", "CREATE TABLE hostile_fixed (id integer);\n");
	($rc, $out, $err) = run($apply->($d));
	is($out, '002_fails.sql|applied', 'non-atomic: the fixed file applies on the next run');
	is($node->safe_psql('postgres', 'SELECT count(*) FROM morgenmigrate.migration_errors'),
		'0', 'non-atomic: its recorded failure is cleared');
	unlink "$d/002_fails.sql";
	($rc, $out, $err) = run("SELECT filename, state FROM morgenmigrate.migrate_status(" . lit($d) . ")");
	is($out, "001_x.sql|applied\n002_fails.sql|missing", 'a file deleted after applying shows as missing');
	reset_db();
}

# NULL for every argument of every function: a clear error or the
# documented meaning of NULL, never a crash.
{
	my $d = new_dir('001_x.sql' => $ok_file, '001_x.down.sql' => "DROP TABLE hostile_ok;\n");
	my $l = lit($d);
	my @null_cases = (
		[ "SELECT * FROM morgenmigrate.migrate_apply(NULL)", '22004', 'argument "dir" must not be null' ],
		[ "SELECT * FROM morgenmigrate.migrate_apply($l, dry_run => NULL)", '22004', 'argument "dry_run" must not be null' ],
		[ "SELECT * FROM morgenmigrate.migrate_apply($l, atomic => NULL)", '22004', 'argument "atomic" must not be null' ],
		[ "SELECT * FROM morgenmigrate.migrate_status(NULL::text)", '22004', 'argument "dir" must not be null' ],
		[ "SELECT morgenmigrate.migrate_check(NULL)", '22004', 'argument "dir" must not be null' ],
		[ "SELECT * FROM morgenmigrate.migrate_rollback(NULL)", '22004', 'argument "dir" must not be null' ],
		[ "SELECT * FROM morgenmigrate.migrate_rollback($l, NULL)", '22004', 'argument "steps" must not be null without a target' ],
		[ "SELECT morgenmigrate.migrate_baseline(NULL)", '22004', 'argument "dir" must not be null' ],
		[ "SELECT morgenmigrate.migrate_forget(NULL)", '22004', 'argument "filename" must not be null' ],
		[ "SELECT * FROM morgenmigrate.migrate_repair(NULL)", '22004', 'argument "dir" must not be null' ],
		[ "CALL morgenmigrate.migrate_run(NULL)", '22004', 'argument "dir" must not be null' ],
	);
	for my $nc (@null_cases)
	{
		my ($sql, $sqlstate, $msg) = @$nc;
		my $before = $node->safe_psql('postgres', $state_q);
		my ($rc, $out, $err) = run($sql);
		like($err, qr/ERROR:  $sqlstate: \Q$msg\E/, "NULL: $sql gives $sqlstate");
		is($node->safe_psql('postgres', $state_q), $before, "NULL: $sql changed nothing");
	}

	# NULL target and steps mean "no target" and "no limit"
	my ($rc, $out, $err) = run("SELECT filename FROM morgenmigrate.migrate_apply($l, NULL, NULL)");
	is($out, '001_x.sql', 'NULL target and steps of migrate_apply: everything pending applies');
	($rc, $out, $err) = run("SELECT filename, status FROM morgenmigrate.migrate_rollback($l, NULL, 'base')");
	is($out, '001_x.sql|rolled back', "NULL steps of migrate_rollback with target 'base': everything rolls back");
	($rc, $out, $err) = run("SELECT morgenmigrate.migrate_baseline($l, NULL)");
	is($out, '1', 'NULL target of migrate_baseline: every file is recorded');
	$node->safe_psql('postgres', 'TRUNCATE morgenmigrate.schema_migrations');
	($rc, $out, $err) = run("CALL morgenmigrate.migrate_run($l, NULL)");
	is($rc, 0, 'NULL target of migrate_run: everything pending applies');
	is($node->safe_psql('postgres', 'SELECT count(*) FROM morgenmigrate.schema_migrations'), '1',
		'NULL target of migrate_run: one row');
}

ok($node->safe_psql('postgres', 'SELECT 1') eq '1', 'the server is still up');
unlike(slurp_file($node->logfile), qr/terminated by signal/, 'no backend crashed');

$node->stop;
done_testing();
