# Migrations of a three-node Citus cluster, all from the coordinator, with
# every promise kept on the shards:
#
# - on a worker, every function of the history refuses, naming the
#   coordinator, and changes nothing;
# - a set with a reference table, a distributed table with a foreign key to
#   it, a trigger, a concurrent index build and a failing file applies
#   with CALL migrate_run, and rolls back;
# - a rehearsal reports the locks taken on the shards of each worker,
#   mapped to their table;
# - a hostile "||" or "=" on the search_path changes nothing the extension
#   reads from Citus's metadata: the coordinator's address, the kind of a
#   locked table;
# - a file's lock_timeout holds on a worker where a shard is locked: the
#   shard's lock timeout comes back as 55P03 and the retries run, giving
#   up with nothing changed, or succeeding once the lock goes;
# - Citus's functions that cannot run in a transaction block are refused
#   by migrate_apply before anything runs and run by migrate_run; Citus's
#   one-transaction rules get a hint; an error while the call's transaction
#   commits on the workers names the call's last file.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../perl";
use CitusCluster qw(citus_installed CITUS_MISSING);
use MorgenmigrateTest qw(write_set);
use PostgreSQL::Test::Utils;
use Test::More;

plan skip_all => CITUS_MISSING unless citus_installed();

# create_distributed_table_concurrently copies with logical replication,
# through Citus's own output plugin: PostgreSQL minors that have
# output_plugin_libraries load it only when that list names it
my $plugins = `postgres --describe-config 2>/dev/null` =~ /^output_plugin_libraries\t/m
  ? "output_plugin_libraries = 'pgoutput, test_decoding, citus'" : '';
my $citus = CitusCluster->start('mig', shard_count => 8, conf => "wal_level = logical\nmax_wal_senders = 10\nmax_replication_slots = 10\n$plugins");
my $coord = $citus->coordinator;
my ($w1, $w2) = $citus->workers;
# and connects to the node it runs on: here over the unix socket
for my $node ($citus->nodes)
{
	$node->safe_psql('postgres',
		sprintf("ALTER SYSTEM SET citus.local_hostname = '%s'; SELECT pg_reload_conf()", $node->host));
}
my $base = PostgreSQL::Test::Utils::tempdir();

# What a query gives on the coordinator and on both workers, joined by "/".
sub on_all
{
	my ($sql) = @_;
	return join('/', map { $_->safe_psql('postgres', $sql) } $citus->nodes);
}

# The SQLSTATE, message, detail and hint of a statement that must fail.
sub fails
{
	my ($node, $sql) = @_;
	my ($rc, $out, $err) = $node->psql('postgres', $sql,
		extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	isnt($rc, 0, "fails: $sql");
	return $err;
}

my $set = write_set(
	"$base/set",
	'001_countries.sql' => <<'SQL',
CREATE TABLE countries (code text PRIMARY KEY, name text NOT NULL);
SELECT create_reference_table('countries');
INSERT INTO countries VALUES ('de', 'Germany'), ('fr', 'France');
SQL
	'002_tenants.sql' => <<'SQL',
CREATE TABLE tenants (id bigint PRIMARY KEY, country text NOT NULL REFERENCES countries (code), name text);
SELECT create_distributed_table('tenants', 'id');
INSERT INTO tenants SELECT g, 'de', 'tenant ' || g FROM generate_series(1, 100) g;
SQL
	'003_touched.sql' => <<'SQL',
-- Citus sends a new function to every node over one connection each: it
-- comes before the parallel ALTER TABLE of the same transaction
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	NEW.touched := now();
	RETURN NEW;
END $$;
ALTER TABLE tenants ADD COLUMN touched timestamptz;
SET LOCAL citus.enable_unsafe_triggers = on;
CREATE TRIGGER tenants_touch BEFORE UPDATE ON tenants FOR EACH ROW EXECUTE FUNCTION touch();
SQL
	'004_tenants_name.sql' => <<'SQL',
CREATE INDEX CONCURRENTLY tenants_name ON tenants (name);
SQL
	'005_broken.sql' => <<'SQL',
ALTER TABLE tenants ADD COLUMN plan text;
UPDATE tenants SET plan = 'free';
ALTER TABLE tenants ADD CONSTRAINT tenants_plan_paid CHECK (plan = 'paid');
SQL
);
PostgreSQL::Test::Utils::append_to_file("$set/003_touched.down.sql",
	"SET LOCAL citus.multi_shard_modify_mode TO 'sequential';\nSET LOCAL citus.enable_unsafe_triggers = on;\nDROP TRIGGER tenants_touch ON tenants;\nDROP FUNCTION touch();\nALTER TABLE tenants DROP COLUMN touched;\n");
PostgreSQL::Test::Utils::append_to_file("$set/004_tenants_name.down.sql",
	"DROP INDEX tenants_name;\n");

# --- on a worker: refused, naming the coordinator, nothing changed
my $coordinator = sprintf('%s:%d', $coord->host, $coord->port);
for my $call ("SELECT * FROM morgenmigrate.migrate_apply('$set')",
	"SELECT * FROM morgenmigrate.migrate_status('$set')",
	"SELECT * FROM morgenmigrate.migrate_status()",
	"SELECT morgenmigrate.migrate_check('$set')",
	"SELECT morgenmigrate.migrate_baseline('$set')",
	"CALL morgenmigrate.migrate_run('$set')",
	"SELECT morgenmigrate.migrate_forget('001_countries.sql')",
	"SELECT morgenmigrate.drift_enable()")
{
	my $err = fails($w1, $call);
	like($err, qr/ERROR:  55000: \w+\(\) cannot run on a Citus worker node/,
		"on a worker: $call refuses");
	like($err, qr/DETAIL:  The migrations of this Citus cluster are applied and recorded on its coordinator, \Q$coordinator\E; this node \(group \d+\)/,
		'and names the coordinator');
}
is($w1->safe_psql('postgres',
		"SELECT (SELECT count(*) FROM morgenmigrate.schema_migrations) || '/' || (SELECT count(*) FROM pg_class WHERE relname IN ('countries', 'tenants'))"),
	'0/0', 'the worker changed nothing');
is($w1->safe_psql('postgres', "SELECT count(*) FROM morgenmigrate.migrate_layout('$set')"),
	'5', 'migrate_layout, which reads only files, works on a worker');

# --- migrate_apply refuses a concurrent index build before running anything;
# create_distributed_table_concurrently likewise
my $err = fails($coord, "SELECT * FROM morgenmigrate.migrate_apply('$set')");
like($err, qr/ERROR:  25001: CREATE INDEX CONCURRENTLY cannot run inside a transaction block/,
	'migrate_apply refuses the concurrent index build');
my $cdtc = write_set("$base/cdtc",
	'001_events.sql' => "CREATE TABLE events (id bigint PRIMARY KEY, at timestamptz);\n",
	'002_distribute.sql' => "SELECT create_distributed_table_concurrently('events', 'id');\n");
$err = fails($coord, "SELECT * FROM morgenmigrate.migrate_apply('$cdtc')");
like($err, qr/ERROR:  25001: create_distributed_table_concurrently\(\) cannot run inside a transaction block.*HINT:  CALL morgenmigrate\.migrate_run\(\) runs such a statement outside a transaction, in a background worker\.  Or use create_distributed_table\(\)/s,
	'migrate_apply refuses create_distributed_table_concurrently, naming migrate_run');
my $cleanup = write_set("$base/cleanup",
	'001_scratch.sql' => "CREATE TABLE scratch (id int);\n",
	'002_cleanup.sql' => "SELECT citus_cleanup_orphaned_resources();\n");
$err = fails($coord, "SELECT * FROM morgenmigrate.migrate_apply('$cleanup')");
like($err, qr/ERROR:  25001: citus_cleanup_orphaned_resources\(\) cannot run inside a transaction block/,
	'and citus_cleanup_orphaned_resources');
is(on_all("SELECT count(*) FROM pg_class WHERE relname IN ('countries', 'tenants', 'events', 'scratch')"),
	'0/0/0', 'nothing was created on any node');

# --- the whole set with migrate_run: 001-004 apply, 005 fails on every shard
my ($rc, $out, $stderr) = $coord->psql('postgres', "CALL morgenmigrate.migrate_run('$set')",
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
isnt($rc, 0, 'the failing file stops migrate_run');
like($stderr, qr/ERROR:  23514: .*tenants_plan_paid.*CONTEXT:  .*migration "005_broken\.sql", line 3/s,
	'the check constraint fails on the shards, named by file and line');
is($coord->safe_psql('postgres',
		"SELECT string_agg(filename, ',' ORDER BY filename) FROM morgenmigrate.schema_migrations"),
	'001_countries.sql,002_tenants.sql,003_touched.sql,004_tenants_name.sql',
	'the first four files are recorded');
is($coord->safe_psql('postgres',
		"SELECT result FROM run_command_on_shards('tenants', \$\$SELECT (SELECT bool_and(indisvalid) FROM pg_index WHERE indrelid = '%1\$s'::regclass AND indexrelid::regclass::text LIKE 'tenants_name%%')::text || ',' || (SELECT count(*) FROM pg_trigger WHERE tgrelid = '%1\$s'::regclass AND tgname LIKE 'tenants_touch%%') || ',' || (SELECT count(*) FROM pg_attribute WHERE attrelid = '%1\$s'::regclass AND attname = 'plan')\$\$) GROUP BY result"),
	'true,1,0', 'every shard has the valid index and the trigger, and no column of the failed file');
$coord->safe_psql('postgres', "UPDATE tenants SET name = 'x' WHERE id = 1");
is($coord->safe_psql('postgres', 'SELECT touched IS NOT NULL FROM tenants WHERE id = 1'),
	't', 'the trigger runs on the shard');

# --- a rehearsal of a file that alters both tables reports the shards' locks
my $alter = write_set("$base/alter",
	'001_alter.sql' => "SET LOCAL citus.multi_shard_modify_mode TO 'sequential';\n"
	  . "ALTER TABLE tenants ADD COLUMN plan text;\nALTER TABLE countries ADD COLUMN region text;\n");
my $locks = $coord->safe_psql('postgres',
	"SELECT array_to_string(locks, E'\\n') FROM morgenmigrate.migrate_apply('$alter', dry_run => true)");
for my $w ($w1, $w2)
{
	my $node = sprintf('%s:%d', $w->host, $w->port);
	like($locks, qr/^AccessExclusiveLock on tenants \(distributed table\): 4 shards on worker \Q$node\E$/m,
		"the rehearsal reports the 4 shards of tenants locked on worker $node");
	like($locks, qr/^AccessExclusiveLock on countries \(reference table\): 1 shard on worker \Q$node\E$/m,
		"and the shard of the reference table");
	like($locks, qr/^AccessExclusiveLock on tenants \(distributed table\): its shell table on worker \Q$node\E$/m,
		"and the worker's shell table of the distributed table");
}
like($locks, qr/^AccessExclusiveLock on public\.tenants$/m, "and the coordinator's own lock");
unlike($locks, qr/tenants_pkey|_\d+ on worker/, "no index of a shard, no shard by its own name");
is(on_all("SELECT count(*) FROM pg_attribute WHERE attname IN ('plan', 'region') AND NOT attisdropped"),
	'0/0/0', 'the rehearsal left nothing on any node');

# --- what the extension reads from Citus's metadata is the same with a
# hostile operator that the migrating role planted in public, on a
# search_path that puts public first: a "||" for (text, integer) on the
# workers, where the refusal reads the coordinator's address, and a "="
# for ("char", "char") on the coordinator, where the rehearsal reads the
# kind of each locked table.  (Not that "||" on the coordinator: Citus's
# own citus_locks() joins a text and an integer with an unqualified "||".)
for my $node ($citus->nodes)
{
	$node->safe_psql('postgres', q{
		SET citus.enable_ddl_propagation = off;
		CREATE ROLE migrator;
		GRANT CREATE ON SCHEMA public TO migrator;
		SET ROLE migrator;
		CREATE FUNCTION public.hostile_char_eq("char", "char") RETURNS boolean
		    LANGUAGE sql AS $$ SELECT false $$;
		CREATE OPERATOR public.= (LEFTARG = "char", RIGHTARG = "char",
		    FUNCTION = public.hostile_char_eq);});
}
for my $node ($citus->workers)
{
	$node->safe_psql('postgres', q{
		SET citus.enable_ddl_propagation = off;
		SET ROLE migrator;
		CREATE FUNCTION public.hostile_concat(text, integer) RETURNS text
		    LANGUAGE sql AS $$ SELECT 'hijacked' $$;
		CREATE OPERATOR public.|| (LEFTARG = text, RIGHTARG = integer,
		    FUNCTION = public.hostile_concat);});
}
my $hostile = 'SET search_path = public, pg_catalog; ';
is($coord->safe_psql('postgres', $hostile . q{SELECT 'h'::"char" = 'h'}), 'f',
	'the planted "=" is active on the coordinator');
is($w1->safe_psql('postgres', $hostile . q{SELECT 'node '::text || 1}), 'hijacked',
	'the planted "||" is active on the worker');
$err = fails($w1, $hostile . "SELECT morgenmigrate.migrate_check('$set')");
like($err, qr/DETAIL:  The migrations of this Citus cluster are applied and recorded on its coordinator, \Q$coordinator\E; this node/,
	'with them, a worker still names the coordinator by its address');
is( $coord->safe_psql('postgres', $hostile
		  . "SELECT array_to_string(locks, E'\\n') FROM morgenmigrate.migrate_apply('$alter', dry_run => true)"),
	$locks, 'and the rehearsal reports the same locks, with the kind of each table');
for my $node ($citus->nodes)
{
	$node->safe_psql('postgres', q{
		SET citus.enable_ddl_propagation = off;
		DROP OWNED BY migrator;
		DROP ROLE migrator;});
}

# --- a shard locked on worker 1: the file's lock_timeout holds there
my $shard = $coord->safe_psql('postgres',
	"SELECT shard_name('tenants'::regclass, s.shardid) FROM pg_dist_shard s JOIN pg_dist_placement p USING (shardid) JOIN pg_dist_node n USING (groupid) WHERE s.logicalrelid = 'tenants'::regclass AND n.nodeport = " . $w1->port . " ORDER BY s.shardid LIMIT 1");
my $limited = write_set("$base/limited",
	'001_plan.sql' => "-- morgenmigrate: lock_timeout=200ms retries=2\nALTER TABLE tenants ADD COLUMN plan text;\n");
my $holder = $w1->background_psql('postgres');
# (Citus lets a session touch a shard directly only when told to)
$holder->query_safe("SET citus.enable_manual_changes_to_shards = on; BEGIN; LOCK TABLE $shard IN ACCESS SHARE MODE");
# without the limit on the worker the call would wait for the holder:
# statement_timeout ends that wait with another error
($rc, $out, $stderr) = $coord->psql('postgres',
	"SET statement_timeout = '20s'; SELECT * FROM morgenmigrate.migrate_apply('$limited')",
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
isnt($rc, 0, 'the call gives up while the shard stays locked');
like($stderr, qr/NOTICE:  00000: migration "001_plan\.sql" could not get a lock, retry 1 of 2.*retry 2 of 2.*ERROR:  55P03: canceling statement due to lock timeout/s,
	"the shard's lock timeout comes back as 55P03 and the retries run");
like($stderr, qr/while executing command on /, "the error says which worker it came from");
is($coord->safe_psql('postgres', 'SELECT count(*) FROM morgenmigrate.schema_migrations'),
	'4', 'nothing more is recorded');
is(on_all("SELECT count(*) FROM pg_attribute WHERE attname = 'plan' AND NOT attisdropped"),
	'0/0/0', 'and nothing is changed on any node');

# the lock goes while the call retries: it applies
my $limited2 = write_set("$base/limited2",
	'001_plan.sql' => "-- morgenmigrate: lock_timeout=200ms retries=20\nALTER TABLE tenants ADD COLUMN plan text;\n");
my $bg = $coord->background_psql('postgres', on_error_stop => 0);
$bg->{stdin} .= "SELECT count(*) FROM morgenmigrate.migrate_apply('$limited2');\n\\echo done\n";
$bg->{run}->pump_nb;
sleep 1;
$holder->query_safe('COMMIT');
$bg->{run}->pump until $bg->{stdout} =~ /done/;
like($bg->{stdout}, qr/^1$/m, 'once the shard is free, the retried file applies');
like($bg->{stderr}, qr/could not get a lock, retry 1 of 20/, 'after at least one retry');
$bg->quit;
$holder->quit;
is($coord->safe_psql('postgres',
		"SELECT result FROM run_command_on_shards('tenants', \$\$SELECT count(*) FROM pg_attribute WHERE attrelid = '%1\$s'::regclass AND attname = 'plan'\$\$) GROUP BY result"),
	'1', 'the column is on every shard');

# --- Citus's one-transaction rules get a hint that names the ways out
my $rules = write_set("$base/rules",
	'001_update_then_reference.sql' =>
	  "UPDATE tenants SET name = name;\nINSERT INTO countries VALUES ('it', 'Italy');\n",
	'002_trigger.sql' =>
	  "CREATE TRIGGER tenants_touch2 BEFORE UPDATE ON tenants FOR EACH ROW EXECUTE FUNCTION touch();\n");
$err = fails($coord, "SELECT * FROM morgenmigrate.migrate_apply('$rules')");
like($err, qr/ERROR:  XX000: cannot execute DML on table "countries" because there was a parallel DML access to distributed table "tenants" in the same transaction.*HINT:  .*SET LOCAL citus\.multi_shard_modify_mode TO 'sequential' at the top of the file \(before its first command on a distributed table\), or apply with CALL morgenmigrate\.migrate_run\(\)/s,
	'a parallel operation before a reference table write: the hint names sequential mode and migrate_run');
is($coord->safe_psql('postgres', "SELECT count(*) FROM countries WHERE code = 'it'"),
	'0', 'and the file changed nothing');
unlink "$rules/001_update_then_reference.sql";
$err = fails($coord, "SELECT * FROM morgenmigrate.migrate_apply('$rules')");
like($err, qr/ERROR:  XX000: triggers are not supported on distributed tables.*HINT:  Citus creates triggers on distributed and reference tables only with citus\.enable_unsafe_triggers on/s,
	'a trigger on a distributed table: the hint names citus.enable_unsafe_triggers');
is(on_all("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'tenants_touch2%'"),
	'0/0/0', 'and no node has the trigger');

# --- rolling back from the coordinator reaches every shard
# (the files of the other directories leave the history first)
$coord->safe_psql('postgres', "SELECT morgenmigrate.migrate_forget('001_plan.sql'); ALTER TABLE tenants DROP COLUMN plan");
$coord->safe_psql('postgres', "CALL morgenmigrate.migrate_run_rollback('$set', steps => 2)");
is($coord->safe_psql('postgres',
		"SELECT result FROM run_command_on_shards('tenants', \$\$SELECT (SELECT count(*) FROM pg_index WHERE indrelid = '%1\$s'::regclass AND indexrelid::regclass::text LIKE 'tenants_name%%') || ',' || (SELECT count(*) FROM pg_trigger WHERE tgrelid = '%1\$s'::regclass AND NOT tgisinternal) || ',' || (SELECT count(*) FROM pg_attribute WHERE attrelid = '%1\$s'::regclass AND attname = 'touched' AND NOT attisdropped)\$\$) GROUP BY result"),
	'0,0,0', 'the rollback removed the index, the trigger and the column on every shard');
is($coord->safe_psql('postgres',
		"SELECT string_agg(filename, ',' ORDER BY filename) FROM morgenmigrate.schema_migrations"),
	'001_countries.sql,002_tenants.sql', 'and the history says so');

# --- create_distributed_table_concurrently runs with migrate_run
$coord->safe_psql('postgres', "CALL morgenmigrate.migrate_run('$cdtc')");
is($coord->safe_psql('postgres', "SELECT count(*) FROM pg_dist_shard WHERE logicalrelid = 'events'::regclass"),
	'8', 'migrate_run distributes the table concurrently');

# --- an error while the call's transaction commits names its last file
my $late = write_set("$base/late",
	'001_note.sql' => "ALTER TABLE tenants ADD COLUMN note text;\n",
	'002_note_default.sql' => "ALTER TABLE tenants ALTER COLUMN note SET DEFAULT '';\n");
my $s = $coord->background_psql('postgres', on_error_stop => 0);
# (the warnings of a directory that is not the history's own stay out)
$s->query_safe('SET client_min_messages = error');
$s->query_safe('BEGIN');
$s->query_safe("SELECT count(*) FROM morgenmigrate.migrate_apply('$late')");
$w2->stop('immediate');
$s->{stderr} = '';
$s->query("\\set VERBOSITY verbose\nCOMMIT");
like($s->{stderr}, qr/CONTEXT:  .*committing the transaction of morgenmigrate's migrations on the Citus cluster, whose last file was "002_note_default\.sql"/s,
	'an error at commit names the last file of the call');
$s->quit;
$w2->start;
is($coord->safe_psql('postgres', "SELECT count(*) FROM morgenmigrate.schema_migrations WHERE filename LIKE '00%_note%'"),
	'0', 'nothing of the call is recorded');
is(on_all("SELECT count(*) FROM pg_attribute WHERE attrelid = 'tenants'::regclass AND attname = 'note' AND NOT attisdropped"),
	'0/0/0', 'and no node kept its change');

$citus->stop;
done_testing();
