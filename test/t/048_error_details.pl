# Error reports: invalid UTF-8 shows the bytes of the invalid character as
# PostgreSQL's own message does (the first version overran its buffer
# formatting them); a symbolic link loop named x.sql is a file error
# (58P01), not an internal error (XX000); an error of migrate_run's worker
# reaches the caller with every field (SQLSTATE, schema, table, constraint)
# and the file's line.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('error_details');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION morgenmigrate');

my $dir = PostgreSQL::Test::Utils::tempdir();
open my $fh, '>:raw', "$dir/001_latin1.sql" or die $!;
print $fh "SELECT 'caf\xe9abc';\n";
close $fh;
my ($rc, $out, $err) = $node->psql('postgres',
	"SELECT * FROM morgenmigrate.migrate_apply('$dir')");
like($err, qr/invalid byte sequence for encoding "UTF8": 0xe9 0x61 0x62/,
	'the message shows the bytes of the invalid character, as PostgreSQL does');

my $loop = PostgreSQL::Test::Utils::tempdir();
symlink("$loop/002_b.sql", "$loop/001_a.sql") or die $!;
symlink("$loop/001_a.sql", "$loop/002_b.sql") or die $!;
($rc, $out, $err) = $node->psql('postgres',
	"SELECT * FROM morgenmigrate.migrate_apply('$loop')",
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/ERROR:  (?!XX000)[0-9A-Z]{5}: could not stat migration file/,
	'a link loop is a user error, not an internal error (XX000)');

my $run = PostgreSQL::Test::Utils::tempdir();
open $fh, '>', "$run/001_unique_codes.sql" or die $!;
print $fh "CREATE TABLE events (code text);\n"
  . "INSERT INTO events VALUES ('a'), ('a');\n"
  . "CREATE UNIQUE INDEX CONCURRENTLY events_code_key\n"
  . "    ON events (code);\n";
close $fh;
($rc, $out, $err) = $node->psql('postgres',
	"CALL morgenmigrate.migrate_run('$run')",
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
my $expected = join("\n",
	'ERROR:  23505: could not create unique index "events_code_key"',
	'DETAIL:  Key (code)=(a) is duplicated.',
	'CONTEXT:  migration "001_unique_codes.sql", line 3',
	'SCHEMA NAME:  public',
	'TABLE NAME:  events',
	'CONSTRAINT NAME:  events_code_key');
like(
	$err,
	qr/\Q$expected\E$/m,
	'an error of the worker keeps its SQLSTATE, detail, schema, table and constraint and names the line');

$node->stop;
done_testing();
