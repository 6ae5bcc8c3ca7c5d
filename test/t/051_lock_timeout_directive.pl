# A migration file's own "-- morgenmigrate: lock_timeout=100ms retries=2"
# applies while another transaction holds the lock it needs: the file is
# tried three times (two NOTICEs), then the call fails with 55P03 with
# nothing applied, and the caller's own lock_timeout is unchanged; once the
# lock is released it applies at the first try.
#
# The lock is held by a prepared transaction, which outlives the session
# that took it: this cluster allows them (max_prepared_transactions), a
# setting the test sets itself.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../perl";
use MorgenmigrateTest qw(write_set);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('lock_timeout_directive');
$node->init;
$node->append_conf('postgresql.conf', 'max_prepared_transactions = 2');
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION morgenmigrate');

my $dir = write_set(
	PostgreSQL::Test::Utils::tempdir() . '/set',
	'001_create_gizmos.sql' => "CREATE TABLE gizmos (id integer PRIMARY KEY);\n",
	'002_add_weight.sql' => "-- morgenmigrate: lock_timeout=100ms retries=2\n"
	  . "ALTER TABLE gizmos ADD COLUMN weight numeric;\n");
$node->safe_psql('postgres',
	"SELECT count(*) FROM morgenmigrate.migrate_apply('$dir', target => '1')");

$node->safe_psql('postgres',
	"BEGIN; LOCK TABLE gizmos IN ACCESS SHARE MODE; PREPARE TRANSACTION 'hold_gizmos'"
);

# without a lock_timeout of its own the caller would wait forever; the
# file's directive makes it fail fast after its retries
my ($rc, $out, $err) = $node->psql('postgres',
	"SET lock_timeout = '5min';
	 SELECT filename, status FROM morgenmigrate.migrate_apply('$dir');
	 \\echo :LAST_ERROR_SQLSTATE
	 SHOW lock_timeout;",
	on_error_stop => 0);
my @notices = $err =~ /NOTICE:  migration "002_add_weight\.sql" could not get a lock, retry (\d) of 2/g;
is_deeply(\@notices, [ 1, 2 ], 'the file is retried twice, each with a NOTICE');
like($err, qr/ERROR:  canceling statement due to lock timeout/,
	'then the call fails');
is($out, "55P03\n5min",
	"with 55P03 (lock_not_available), and the caller's own lock_timeout is unchanged");
is( $node->safe_psql(
		'postgres',
		q{SELECT string_agg(filename, ',' ORDER BY filename) FROM morgenmigrate.schema_migrations}
	),
	'001_create_gizmos.sql',
	'nothing of 002 is recorded');
is( $node->safe_psql(
		'postgres',
		q{SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute
		   WHERE attrelid = 'gizmos'::regclass AND attnum > 0 AND NOT attisdropped}),
	'id',
	'and the table is unchanged');

$node->safe_psql('postgres', "COMMIT PREPARED 'hold_gizmos'");
($rc, $out, $err) = $node->psql('postgres',
	"SELECT filename, status FROM morgenmigrate.migrate_apply('$dir')");
is($out, '002_add_weight.sql|applied', 'once the lock is released the file applies');
unlike($err, qr/retry/, 'at the first try');

$node->stop;
done_testing();
