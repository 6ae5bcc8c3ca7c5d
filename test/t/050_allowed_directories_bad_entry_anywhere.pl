# A bad entry anywhere in morgenmigrate.allowed_directories refuses every
# directory, whatever its place in the list (the setting fails closed).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('bad_entry');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION morgenmigrate');

my $dir = PostgreSQL::Test::Utils::tempdir();
PostgreSQL::Test::Utils::append_to_file("$dir/001_create_order_matters.sql",
	"CREATE TABLE order_matters (id integer);\n");

for my $list ("relative/dir,$dir", "$dir,relative/dir")
{
	my ($rc, $out, $err) = $node->psql('postgres',
		"SET morgenmigrate.allowed_directories = '$list';\n"
		  . "SELECT filename FROM morgenmigrate.migrate_apply('$dir')");
	like($err, qr/"relative\/dir" in morgenmigrate.allowed_directories is not an absolute path/,
		"'$list': the bad entry refuses the call");
}
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_class WHERE relname = 'order_matters'"),
	'0', 'nothing was applied');

$node->stop;
done_testing();
