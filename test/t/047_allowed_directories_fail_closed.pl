# An invalid morgenmigrate.allowed_directories in postgresql.conf (here a
# relative path, a one-character typo) must not leave every directory open:
# the restriction fails closed, with an error that names the bad entry.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('fail_closed');
$node->init;
$node->append_conf('postgresql.conf',
	"morgenmigrate.allowed_directories = 'srv/app/migrations'\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION morgenmigrate');

my $dir = PostgreSQL::Test::Utils::tempdir();
PostgreSQL::Test::Utils::append_to_file("$dir/001_create_anywhere.sql",
	"CREATE TABLE anywhere (id integer);\n");

my ($rc, $out, $err) = $node->psql('postgres',
	"SELECT filename FROM morgenmigrate.migrate_apply('$dir')");
isnt($rc, 0, 'an invalid allowed_directories does not allow every directory');
like($err, qr/ERROR:  "srv\/app\/migrations" in morgenmigrate.allowed_directories is not an absolute path\nDETAIL:  Until it is fixed, no directory is allowed\./,
	'the error names the bad entry and says nothing is allowed');

# a list that cannot be parsed, set by a superuser in the session
($rc, $out, $err) = $node->psql('postgres',
	"SET morgenmigrate.allowed_directories = '\"$dir';\n"
	  . "SELECT filename FROM morgenmigrate.migrate_apply('$dir')");
like($err, qr/ERROR:  invalid list syntax in parameter "morgenmigrate.allowed_directories"/,
	'an unparsable list refuses too');
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_class WHERE relname = 'anywhere'"),
	'0', 'nothing was applied from a directory that was never allowed');

$node->stop;
done_testing();
