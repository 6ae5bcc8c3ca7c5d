# Migrations and a streaming replica: applied on the primary, the
# schema and the history reach the standby; on the standby every history
# writer refuses with 25006 before it reads anything (shown with a
# directory that does not exist there), while migrate_status,
# migrate_check and migrate_plan, which only read, work.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->start;
$primary->safe_psql('postgres', 'CREATE EXTENSION morgenmigrate');
$primary->backup('base');

my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;

# both servers run on this machine, so the directory is readable by both
my $dir = PostgreSQL::Test::Utils::tempdir();
PostgreSQL::Test::Utils::append_to_file("$dir/001_create_replicated.sql",
	"CREATE TABLE replicated (id integer PRIMARY KEY, note text);\n");
PostgreSQL::Test::Utils::append_to_file("$dir/002_fill_replicated.sql",
	"INSERT INTO replicated VALUES (1, 'one'), (2, 'two');\n");
PostgreSQL::Test::Utils::append_to_file("$dir/003_index_replicated.sql",
	"CREATE INDEX replicated_note_idx ON replicated (note);\n");

is( $primary->safe_psql('postgres',
		"SELECT string_agg(filename, ',') FROM morgenmigrate.migrate_apply('$dir', target => '2')"),
	'001_create_replicated.sql,002_fill_replicated.sql',
	'the primary applies two of the three files');
$primary->wait_for_catchup($standby);

my $history_q = q{
	SELECT string_agg(filename || ':' || checksum || ':' || kind, ',' ORDER BY filename)
	  FROM morgenmigrate.schema_migrations};
is($standby->safe_psql('postgres', $history_q),
	$primary->safe_psql('postgres', $history_q),
	'the standby has the same history rows, checksums included');
is($standby->safe_psql('postgres', 'SELECT string_agg(note, \',\' ORDER BY id) FROM replicated'),
	'one,two', 'the standby has the table and the rows of the migrations');
is( $standby->safe_psql('postgres',
		"SELECT string_agg(filename || '=' || state, ',') FROM morgenmigrate.migrate_status('$dir')"),
	'001_create_replicated.sql=applied,002_fill_replicated.sql=applied,003_index_replicated.sql=pending',
	'migrate_status(dir) works on the standby');
is( $standby->safe_psql('postgres',
		"SELECT count(*) FROM morgenmigrate.migrate_status()"),
	'2', 'migrate_status() works on the standby');

my ($rc, $out, $err) = $standby->psql('postgres',
	"SELECT morgenmigrate.migrate_check('$dir')",
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/ERROR:  55000: 1 migration of ".*" is not applied as it stands\nDETAIL:  Pending: 003_index_replicated.sql\./,
	'migrate_check works on the standby and names the pending file');

# migrate_plan only reads: it answers on the standby, of the standby's own
# table, and again in the same session (from what the session kept)
my $plan_q = qq{
	SELECT string_agg(filename || ':' || line || ':' || command || ':' || relation || ':'
	    || lock_mode || ':' || effect || ':' || (relation_bytes > 0), ',')
	  FROM morgenmigrate.migrate_plan('$dir');
};
is($standby->safe_psql('postgres', $plan_q x 3),
	join("\n", ('003_index_replicated.sql:1:CREATE INDEX:replicated:ShareLock:index:true') x 3),
	'migrate_plan works on the standby, three times in a session');

# every writer refuses during recovery, before looking at the directory
my $nowhere = '/nonexistent/morgenmigrate/standby/migrations';
ok(!-e $nowhere, 'the directory given to the standby does not exist');
my %writers = (
	migrate_apply => "SELECT * FROM morgenmigrate.migrate_apply('$nowhere')",
	migrate_rollback => "SELECT * FROM morgenmigrate.migrate_rollback('$nowhere')",
	migrate_baseline => "SELECT morgenmigrate.migrate_baseline('$nowhere')",
	migrate_repair => "SELECT * FROM morgenmigrate.migrate_repair('$nowhere')",
	migrate_forget => "SELECT morgenmigrate.migrate_forget('001_create_replicated.sql')",
	migrate_run => "CALL morgenmigrate.migrate_run('$nowhere')",
	migrate_adopt => "SELECT * FROM morgenmigrate.migrate_adopt('$nowhere')",
);
for my $f (sort keys %writers)
{
	($rc, $out, $err) = $standby->psql('postgres', $writers{$f},
		extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	isnt($rc, 0, "$f fails on the standby");
	like($err, qr/ERROR:  25006: cannot run \Q$f\E\(\) during recovery/,
		"$f: the error is the recovery one (25006), not about the directory");
	like($err, qr/HINT:  Run migrations on the primary server\./,
		"$f: the hint says where to run it");
}
# the same with a real directory: still refused, dry_run included
($rc, $out, $err) = $standby->psql('postgres',
	"SELECT * FROM morgenmigrate.migrate_apply('$dir', dry_run => true)");
like($err, qr/ERROR:  cannot run migrate_apply\(\) during recovery/,
	'a dry run is refused on the standby too');

is($standby->safe_psql('postgres', $history_q),
	$primary->safe_psql('postgres', $history_q),
	'the refused calls changed nothing on the standby');

# the primary goes on and the standby follows
is( $primary->safe_psql('postgres',
		"SELECT string_agg(filename, ',') FROM morgenmigrate.migrate_apply('$dir')"),
	'003_index_replicated.sql', 'the primary applies the last file');
$primary->wait_for_catchup($standby);
is( $standby->safe_psql('postgres',
		"SELECT string_agg(DISTINCT state, ',') FROM morgenmigrate.migrate_status('$dir')"),
	'applied', 'the standby then shows every file applied');
is( $standby->safe_psql('postgres',
		"SELECT count(*) FROM pg_indexes WHERE indexname = 'replicated_note_idx'"),
	'1', 'the index of the last migration reached the standby');
($rc, $out, $err) = $standby->psql('postgres', "SELECT morgenmigrate.migrate_check('$dir')");
is($rc, 0, 'migrate_check passes quietly on the up-to-date standby');

$standby->stop;
$primary->stop;
done_testing();
