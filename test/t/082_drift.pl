# Drift on real clusters: DDL by a role that logs in on its own is
# recorded; migrate_run's concurrent index build and a file that fails in
# a subtransaction are not drift, and the failure names the drift that
# touched its table; pg_dump records nothing, and pg_restore (custom and
# plain) restores the drift rows and the event triggers without recording
# the restore's own DDL, the next DDL being recorded after the restored
# rows; a database updated from 1.0 records drift, which a role set up for
# 1.0 sees in migrate_status; a streaming standby has
# the primary's drift, records none, and its migrate_check refuses it.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../perl";
use MorgenmigrateTest qw(write_set superuser);

my $node = PostgreSQL::Test::Cluster->new('drift');
$node->init(allows_streaming => 1);
$node->start;

my $base = PostgreSQL::Test::Utils::tempdir();
my $set = write_set(
	"$base/app",
	'001_orders.sql' => "CREATE TABLE orders (id int PRIMARY KEY, customer text);\n",
	'002_orders_customer.sql' =>
	  "-- morgenmigrate: lock_timeout=5s\nCREATE INDEX CONCURRENTLY orders_customer ON orders (customer);\n",
	'003_order_totals.sql' =>
	  "CREATE MATERIALIZED VIEW order_totals AS SELECT count(*) AS n FROM orders;\n");
my $later = write_set("$base/later",
	'004_orders_note.sql' => "ALTER TABLE orders ADD COLUMN note text;\n");
system("cp $set/*.sql $later/") == 0 or die "cp: $?";

# The drift rows of a database: "tag identity user/session" per row.
sub drift
{
	my ($db, $where) = @_;
	$where //= 'true';
	return $node->safe_psql($db,
		"SELECT string_agg(command_tag || ' ' || coalesce(object_identity, object_type)"
		  . " || ' ' || user_name || '/' || session_user_name, ',' ORDER BY id)"
		  . " FROM morgenmigrate.drift WHERE $where");
}

$node->safe_psql('postgres', 'CREATE DATABASE app');
$node->safe_psql('app', 'CREATE EXTENSION morgenmigrate');
$node->safe_psql('app', 'SELECT morgenmigrate.drift_enable()');

# migrate_run: a commit per file and a concurrent build in a worker
$node->safe_psql('app', "CALL morgenmigrate.migrate_run('$set')");
is($node->safe_psql('app', q(SELECT indisvalid FROM pg_index WHERE indexrelid = 'orders_customer'::regclass)),
	't', 'migrate_run built the index concurrently');
is(drift('app'), '', 'nothing of migrate_run is drift, its worker\'s build included');

# a role that logs in by itself, with no right on the extension
$node->safe_psql('app', q(
	CREATE ROLE dev LOGIN;
	GRANT CREATE ON SCHEMA public TO dev;));
my $super = superuser();
is(drift('app'), "GRANT SCHEMA $super/$super",
	'the superuser\'s GRANT is drift');
$node->safe_psql('app', 'ALTER TABLE orders OWNER TO dev');
$node->safe_psql('app', 'CREATE TABLE dev_scratch (id int); ALTER TABLE orders ADD COLUMN note text',
	connstr => $node->connstr('app') . ' user=dev');
is( drift('app', "user_name = 'dev'"),
	'CREATE TABLE public.dev_scratch dev/dev,ALTER TABLE public.orders dev/dev',
	'the DDL of a role without rights on the extension is recorded as its own');
is($node->safe_psql('app', q(SELECT count(*) FROM morgenmigrate.drift WHERE application_name IS NULL OR statement IS NULL)),
	'0', 'with its application name and statement');

# migrate_run fails on the column added by hand: the file's subtransaction
# rolls back, the failure is recorded, and both name the drift
my ($rc, $out, $err) = $node->psql('app', "CALL morgenmigrate.migrate_run('$later')");
like($err, qr/ERROR:  column "note" of relation "orders" already exists/, 'the migration fails');
like($err, qr/DETAIL:  The schema was changed outside the migrations, on what this statement names: .*ALTER TABLE public\.orders by dev at /,
	'its error names the drift on its table');
like($node->safe_psql('app', q(SELECT detail FROM morgenmigrate.migration_errors WHERE filename = '004_orders_note.sql')),
	qr/ALTER TABLE public\.orders by dev at/, 'so does the recorded failure');

# pg_dump runs no DDL: nothing recorded; a restore records nothing either
my $before = drift('app');
my $custom = "$base/app.dump";
my $plain = "$base/app.sql";
$node->command_ok([ 'pg_dump', '--format=custom', '--file', $custom, 'app' ], 'pg_dump custom');
$node->command_ok([ 'pg_dump', '--format=plain', '--file', $plain, 'app' ], 'pg_dump plain');
is(drift('app'), $before, 'pg_dump recorded nothing');

my $rows_q = q(SELECT string_agg(concat_ws('|', id, recorded_at, user_name, command_tag, object_identity, statement), E'\n' ORDER BY id) FROM morgenmigrate.drift);
my $triggers_q = q(SELECT string_agg(evtname || ':' || evtenabled::text || ':' || evtfoid::regproc, ',' ORDER BY evtname) FROM pg_event_trigger);
$node->safe_psql('postgres', 'CREATE DATABASE restored_custom');
$node->command_ok([ 'pg_restore', '--exit-on-error', '-d', 'restored_custom', $custom ],
	'pg_restore of the custom dump');
$node->safe_psql('postgres', 'CREATE DATABASE restored_plain');
$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', $plain, '-d', 'restored_plain' ],
	'psql -f of the plain dump');
for my $db ('restored_custom', 'restored_plain')
{
	is($node->safe_psql($db, $rows_q), $node->safe_psql('app', $rows_q),
		"$db: the drift rows are restored exactly, and the restore recorded nothing");
	is($node->safe_psql($db, $triggers_q),
		'morgenmigrate_drift_ddl:O:morgenmigrate.drift_record_ddl,morgenmigrate_drift_drop:O:morgenmigrate.drift_record_drop',
		"$db: the event triggers are restored, enabled");
	my $max = $node->safe_psql($db, 'SELECT max(id) FROM morgenmigrate.drift');
	$node->safe_psql($db, 'DROP TABLE dev_scratch');
	is( $node->safe_psql($db,
			"SELECT string_agg(command_tag || ' ' || object_identity, ',') FROM morgenmigrate.drift WHERE id > $max"),
		'DROP TABLE public.dev_scratch',
		"$db: the next DDL is recorded, after the restored rows");
}

# a standby has the primary's drift, records none, and refuses it
$node->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('drift_standby');
$standby->init_from_backup($node, 'base', has_streaming => 1);
$standby->start;
$node->safe_psql('app', 'CREATE TABLE hotfix (id int)');
$node->wait_for_catchup($standby);
is($standby->safe_psql('app', $rows_q), $node->safe_psql('app', $rows_q),
	'the standby has the primary\'s drift rows');
($rc, $out, $err) = $standby->psql('app', 'CREATE TABLE on_standby (id int)');
like($err, qr/read-only transaction/, 'DDL on the standby fails as always');
($rc, $out, $err) = $standby->psql('app', 'CREATE TEMP TABLE on_standby (id int)');
isnt($rc, 0, 'temporary tables cannot be created on a standby either');
is($standby->safe_psql('app', $rows_q), $node->safe_psql('app', $rows_q),
	'the standby recorded nothing');
($rc, $out, $err) = $standby->psql('app', "SELECT morgenmigrate.migrate_check('$set')");
like($err, qr/ERROR:  \d+ schema changes were made outside the migrations\nDETAIL:  Drift: .*CREATE TABLE public\.hotfix by \Q$super\E at /s,
	'migrate_check on the standby refuses the drift');
($rc, $out, $err) = $standby->psql('app', q(SELECT morgenmigrate.drift_acknowledge('on the standby')),
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/ERROR:  25006: cannot run drift_acknowledge\(\) during recovery/,
	'drift_acknowledge refuses on the standby');
$node->safe_psql('app', q(SELECT morgenmigrate.drift_acknowledge('reviewed on the primary')));
$node->wait_for_catchup($standby);
($rc, $out, $err) = $standby->psql('app', "SELECT morgenmigrate.migrate_check('$set')");
is($rc, 0, 'acknowledged on the primary, migrate_check passes on the standby');
$standby->stop;

# updated from 1.0: drift works, and a role set up for 1.0 sees it in
# migrate_status without any right on the new table
$node->safe_psql('postgres', 'CREATE DATABASE old');
$node->safe_psql('old', q(
	CREATE EXTENSION morgenmigrate VERSION '1.0';
	CREATE ROLE deployer;
	GRANT pg_read_server_files TO deployer;
	GRANT USAGE ON SCHEMA morgenmigrate TO deployer;
	GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA morgenmigrate TO deployer;
	GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA morgenmigrate TO deployer;));
$node->safe_psql('old', "SELECT morgenmigrate.migrate_apply('$set', target => '001')");
$node->safe_psql('old', 'ALTER EXTENSION morgenmigrate UPDATE');
is( $node->safe_psql('old',
		q(SELECT has_table_privilege('deployer', 'morgenmigrate.drift', 'SELECT'))),
	'f', 'after the update the deployer has no right on the drift table');
$node->safe_psql('old', 'SELECT morgenmigrate.drift_enable()');
$node->safe_psql('old', 'CREATE INDEX orders_by_hand ON orders (customer)');
is( $node->safe_psql('old',
		"SET ROLE deployer; SELECT string_agg(filename || '=' || state, ',') FROM morgenmigrate.migrate_status('$set') WHERE state = 'drift'"),
	'drift: CREATE INDEX public.orders_by_hand=drift',
	'the updated database records drift, and the deployer sees it');
# acknowledging is a write: the function and the table are granted
$node->safe_psql('old', 'GRANT EXECUTE ON FUNCTION morgenmigrate.drift_acknowledge(text, timestamptz) TO deployer');
$node->safe_psql('old', 'GRANT SELECT, UPDATE ON morgenmigrate.drift TO deployer');
is($node->safe_psql('old', q(SET ROLE deployer; SELECT morgenmigrate.drift_acknowledge('accepted by the deployer'))),
	'3', 'and, granted the function, SELECT and UPDATE, acknowledges all three changes (the GRANTs are drift too)');

$node->stop;
done_testing();
