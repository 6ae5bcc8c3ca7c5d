# File names are UTF-8 on disk and are converted to the database encoding,
# as the files' texts are: a LATIN1 database records "001_café.sql" as the
# name it is, an EUC_JP database takes a Japanese name, and a name the
# database encoding cannot hold is refused (22P05) before anything runs,
# naming the file by its bytes.  Pushed names too: a path of bytea or of
# text names the file on disk, and one LATIN1 cannot hold is refused.
use strict;
use warnings;
use utf8;

use Encode qw(encode);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

$ENV{PGCLIENTENCODING} = 'UTF8';
my $node = PostgreSQL::Test::Cluster->new('encodings');
$node->init;
$node->start;
for my $enc ('LATIN1', 'EUC_JP')
{
	my $db = lc $enc;
	$node->safe_psql('postgres',
		"CREATE DATABASE $db TEMPLATE template0 ENCODING '$enc' LOCALE 'C'");
	$node->safe_psql($db, 'CREATE EXTENSION morgenmigrate');
}

my $base = PostgreSQL::Test::Utils::tempdir();
# Writes a migration file whose name is given as characters: on disk, UTF-8.
sub write_file
{
	my ($dir, $name, $text) = @_;
	mkdir $dir unless -d $dir;
	my $path = "$dir/" . encode('UTF-8', $name);
	open my $fh, '>:encoding(UTF-8)', $path or die "$path: $!";
	print $fh $text;
	close $fh;
}
write_file("$base/cafe", '001_café.sql', "CREATE TABLE enc_cafe (note text DEFAULT 'café');\n");
write_file("$base/cafe", '002_crème.down.sql', "SELECT 1;\n");
write_file("$base/japanese", '001_名前.sql', "CREATE TABLE enc_japanese (id int);\n");
write_file("$base/mixed", '001_first.sql', "CREATE TABLE enc_first (id int);\n");
write_file("$base/mixed", '002_日本.sql', "CREATE TABLE enc_japan (id int);\n");

# the history as the database holds it: each name as hex of its bytes
my $names = "SELECT string_agg(encode(convert_to(filename, 'UTF8'), 'hex'), ',' ORDER BY filename)"
  . " FROM morgenmigrate.schema_migrations";
sub hex_of { return join(',', map { unpack('H*', encode('UTF-8', $_)) } @_) }

# LATIN1: the accented e is one character, recorded as such (not as the two characters
# its UTF-8 bytes would make)
my ($rc, $out, $err) = $node->psql('latin1',
	"SELECT filename, status FROM morgenmigrate.migrate_apply('$base/cafe')");
is($rc, 0, 'LATIN1: a name with an accented letter applies') or diag($err);
is($node->safe_psql('latin1', $names), hex_of('001_café.sql'),
	'LATIN1: the history holds the name as it is');
is($node->safe_psql('latin1',
		"SELECT length(filename) FROM morgenmigrate.schema_migrations"),
	'12', 'LATIN1: twelve characters, the accented e one of them');
($rc, $out, $err) = $node->psql('latin1',
	"SELECT filename || ':' || state FROM morgenmigrate.migrate_status('$base/cafe')");
is($out, encode('UTF-8', "001_café.sql:applied\n002_crème.down.sql:orphan"),
	'LATIN1: status names both files as they are, the orphan too');
like($err, qr/^$/, 'LATIN1: no error');
is($node->safe_psql('latin1', "SELECT count(*) FROM morgenmigrate.migrate_apply('$base/cafe')"),
	'0', 'LATIN1: applying again finds the file applied');

# EUC_JP: a Japanese name is valid and recorded
($rc, $out, $err) = $node->psql('euc_jp',
	"SELECT filename, status FROM morgenmigrate.migrate_apply('$base/japanese')");
is($rc, 0, 'EUC_JP: a Japanese name applies') or diag($err);
is($node->safe_psql('euc_jp', $names), hex_of('001_名前.sql'),
	'EUC_JP: the history holds the name as it is');

# LATIN1 cannot hold 日本: refused before anything runs, naming the file
($rc, $out, $err) = $node->psql('latin1',
	"SELECT filename, status FROM morgenmigrate.migrate_apply('$base/mixed')",
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
isnt($rc, 0, 'LATIN1: a name it cannot hold is refused');
like($err, qr/ERROR:  22P05: character with byte sequence 0xe6 0x97 0xa5 in encoding "UTF8" has no equivalent in encoding "LATIN1"/,
	'LATIN1: as an untranslatable character');
like($err, qr/CONTEXT:  migration file name "002_\\xe6\\x97\\xa5\\xe6\\x9c\\xac\.sql"/,
	'LATIN1: naming the file by its bytes');
is($node->safe_psql('latin1', "SELECT to_regclass('enc_first') IS NULL"), 't',
	'LATIN1: the file before it did not run');
is($node->safe_psql('latin1', $names), hex_of('001_café.sql'),
	'LATIN1: the history is as it was');
($rc, $out, $err) = $node->psql('latin1',
	"SELECT * FROM morgenmigrate.migrate_status('$base/mixed')");
like($err, qr/ERROR:  character with byte sequence/, 'LATIN1: status refuses it too');

# Pushed files, in the LATIN1 database: a path of bytea is the name's UTF-8
# bytes, one of text the name as the database holds it (converted to
# UTF-8); either names 001_café.sql as the directory did, so it is
# applied.  A pushed name LATIN1 cannot hold is refused the same way
# (22P05), nothing changed.
my $cafe_hex = unpack('H*', encode('UTF-8', "CREATE TABLE enc_cafe (note text DEFAULT 'café');\n"));
my $push = encode('UTF-8', qq{
	CREATE TEMPORARY TABLE pushed_bytea (path bytea, content bytea);
	INSERT INTO pushed_bytea VALUES ('\\x${\ hex_of('001_café.sql')}', '\\x$cafe_hex');
	CREATE TEMPORARY TABLE pushed_text (path text, content bytea);
	INSERT INTO pushed_text VALUES ('001_café.sql', '\\x$cafe_hex');
	SELECT string_agg(filename || ':' || state, ',') FROM morgenmigrate.migrate_status(files => 'pushed_bytea');
	SELECT string_agg(filename || ':' || state, ',') FROM morgenmigrate.migrate_status(files => 'pushed_text');
	SELECT count(*) FROM morgenmigrate.migrate_apply(files => 'pushed_text');
});
is($node->safe_psql('latin1', $push), encode('UTF-8', "001_café.sql:applied\n001_café.sql:applied\n0"),
	'LATIN1: a pushed name, of bytea or of text, is the name on disk: applied');
($rc, $out, $err) = $node->psql('latin1', qq{
	CREATE TEMPORARY TABLE pushed_mixed (path bytea, content bytea);
	INSERT INTO pushed_mixed VALUES ('\\x${\ hex_of('001_first.sql')}', 'CREATE TABLE enc_first (id int);'),
	    ('\\x${\ hex_of('002_日本.sql')}', 'CREATE TABLE enc_japan (id int);');
	SELECT * FROM morgenmigrate.migrate_apply(files => 'pushed_mixed', atomic => false);},
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/ERROR:  22P05: character with byte sequence 0xe6 0x97 0xa5 in encoding "UTF8" has no equivalent in encoding "LATIN1"/,
	'LATIN1: a pushed name it cannot hold is refused (22P05)');
is($node->safe_psql('latin1', "SELECT (to_regclass('enc_first') IS NULL) || ',' || (to_regclass('enc_japan') IS NULL)"),
	'true,true', 'LATIN1: nothing of the push ran');
is($node->safe_psql('latin1', $names), hex_of('001_café.sql'),
	'LATIN1: the history is as it was');

done_testing();
