# Who runs a statement that migrate_run hands to a background worker:
# the worker connects as the caller's login
# role, takes on the role of the caller's SET ROLE (here a NOLOGIN owner
# role, which the NOINHERIT login role cannot act as without SET ROLE) and
# the caller's search_path, so unqualified names in CREATE INDEX
# CONCURRENTLY resolve in the caller's schema and not in a decoy in public.
# An event trigger records what each DDL statement's backend sees.  A
# permission error in the worker comes back as 42501 with the migration's
# context, and is recorded.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../perl";
use MorgenmigrateTest qw(superuser);

my $node = PostgreSQL::Test::Cluster->new('toplevel_roles');
$node->init;
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION morgenmigrate;
	CREATE ROLE deployer LOGIN NOINHERIT;
	CREATE ROLE app_owner NOLOGIN;
	GRANT app_owner TO deployer;
	-- what a non-superuser needs to run migrations, given to the
	-- role the deployer switches to
	GRANT pg_read_server_files TO app_owner;
	GRANT USAGE ON SCHEMA morgenmigrate TO app_owner;
	GRANT EXECUTE ON PROCEDURE morgenmigrate.migrate_run(text, text) TO app_owner;
	GRANT SELECT, INSERT, UPDATE, DELETE
	   ON morgenmigrate.schema_migrations, morgenmigrate.migration_errors TO app_owner;
	CREATE SCHEMA app AUTHORIZATION app_owner;

	-- decoys in public, owned by the superuser: a worker with another
	-- search_path would find these
	CREATE TABLE public.items (id integer, name text);
	CREATE TABLE public.secret (id integer, code text);

	-- what the backend running each DDL statement sees
	CREATE TABLE public.ddl_seen (
	    seq serial, tag text, backend_type text, usename name,
	    session_role name, current_role_name name, search_path text, pid integer);
	GRANT INSERT ON public.ddl_seen TO PUBLIC;
	GRANT USAGE ON SEQUENCE public.ddl_seen_seq_seq TO PUBLIC;
	-- (pg_stat_activity shows a backend's type only to privileged roles)
	CREATE FUNCTION public.my_backend_type() RETURNS text
	    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS $$
	    SELECT backend_type FROM pg_stat_activity WHERE pid = pg_backend_pid()
	$$;
	CREATE FUNCTION public.note_ddl() RETURNS event_trigger
	    LANGUAGE plpgsql AS $$
	BEGIN
	    INSERT INTO public.ddl_seen (tag, backend_type, usename, session_role,
	                                 current_role_name, search_path, pid)
	    SELECT tg_tag, public.my_backend_type(), a.usename, session_user, current_user,
	           current_setting('search_path'), pg_backend_pid()
	      FROM pg_stat_activity a WHERE a.pid = pg_backend_pid();
	END $$;
	CREATE EVENT TRIGGER note_ddl ON ddl_command_end EXECUTE FUNCTION public.note_ddl();
});

my $dir = PostgreSQL::Test::Utils::tempdir();
PostgreSQL::Test::Utils::append_to_file("$dir/001_create_items.sql", <<'EOF');
CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL);
INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 2000) g;
EOF
PostgreSQL::Test::Utils::append_to_file("$dir/002_index_items.sql", <<'EOF');
CREATE INDEX CONCURRENTLY items_name_idx ON items (name);
CREATE INDEX CONCURRENTLY ON items (lower(name));
EOF

# The deployer logs in, switches to the owner role and to the app schema.
sub run_as_deployer
{
	my ($sql) = @_;
	my ($out, $err) = ('', '');
	my $ret = $node->psql('postgres',
		"\\set VERBOSITY verbose\nSET ROLE app_owner;\nSET search_path = app;\n$sql",
		stdout => \$out, stderr => \$err,
		connstr => $node->connstr('postgres') . ' user=deployer');
	return ($ret, $out, $err);
}

my ($ret, $out, $err) = run_as_deployer("CALL morgenmigrate.migrate_run('$dir')");
is($ret, 0, 'SET ROLE to a NOLOGIN role: migrate_run applies the set') or diag($err);

is( $node->safe_psql('postgres', q{
		SELECT string_agg(c.oid::regclass || ':' || i.indisvalid || ':' || pg_get_userbyid(c.relowner), ','
		                  ORDER BY c.relname)
		  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
		 WHERE i.indrelid = 'app.items'::regclass}),
	'app.items_lower_idx:true:app_owner,app.items_name_idx:true:app_owner,app.items_pkey:true:app_owner',
	'the concurrent builds are valid indexes on app.items, owned by the role of SET ROLE');
is( $node->safe_psql('postgres', q{
		SELECT count(*) FROM pg_index WHERE indrelid IN ('public.items'::regclass, 'public.secret'::regclass)}),
	'0', 'unqualified names did not resolve to the decoys in public');

# what each DDL statement's backend saw: the CREATE TABLE ran in the
# caller, the CREATE INDEX CONCURRENTLY in a worker, both as the caller
my $caller_seen = $node->safe_psql('postgres', q{
	SELECT backend_type || '|' || usename || '|' || session_role || '|' || current_role_name || '|' || search_path
	  FROM public.ddl_seen WHERE tag = 'CREATE TABLE'});
is($caller_seen, 'client backend|deployer|deployer|app_owner|app',
	'the caller runs CREATE TABLE as deployer, SET ROLE app_owner, search_path app');
is( $node->safe_psql('postgres', q{
		SELECT string_agg(backend_type || '|' || usename || '|' || session_role || '|' || current_role_name
		                  || '|' || search_path, E'\n' ORDER BY seq)
		  FROM public.ddl_seen WHERE tag = 'CREATE INDEX'}),
	"morgenmigrate worker|deployer|deployer|app_owner|app\n"
	  . "morgenmigrate worker|deployer|deployer|app_owner|app",
	'each CREATE INDEX CONCURRENTLY ran in a morgenmigrate worker logged in as deployer, as app_owner, with search_path app');
is( $node->safe_psql('postgres', q{
		SELECT count(DISTINCT pid) FROM public.ddl_seen WHERE tag = 'CREATE INDEX'}),
	'2', 'each concurrent build had a worker of its own');
is( $node->safe_psql('postgres', q{
		SELECT string_agg(filename, ',' ORDER BY filename) FROM morgenmigrate.schema_migrations}),
	'001_create_items.sql,002_index_items.sql', 'the history is complete');

# the caller's session is unchanged by its run
($ret, $out, $err) = run_as_deployer(
	"CALL morgenmigrate.migrate_run('$dir');\nSELECT current_user, session_user, current_setting('search_path');");
is($out, 'app_owner|deployer|app', 'the caller keeps its role and search_path after a run');

# a permission error in the worker: the owner role may not index a table
# of the superuser's
PostgreSQL::Test::Utils::append_to_file("$dir/003_index_secret.sql", <<'EOF');
CREATE TABLE IF NOT EXISTS item_tags (item_id integer, tag text);
CREATE INDEX CONCURRENTLY secret_code_idx
    ON public.secret (code);
EOF
($ret, $out, $err) = run_as_deployer("CALL morgenmigrate.migrate_run('$dir')");
isnt($ret, 0, 'permission error: the run fails');
like($err, qr/ERROR:  42501: must be owner of table secret/,
	'permission error: the worker\'s 42501 comes back with its message');
like($err, qr/CONTEXT:  migration "003_index_secret\.sql", line 2/,
	'permission error: with the migration\'s file and line');
is( $node->safe_psql('postgres', q{
		SELECT filename || '|' || sqlstate || '|' || message || '|' || line FROM morgenmigrate.migration_errors}),
	'003_index_secret.sql|42501|must be owner of table secret|2',
	'permission error: migration_errors records it');
is( $node->safe_psql('postgres', q{
		SELECT (SELECT count(*) FROM pg_index WHERE indrelid = 'public.secret'::regclass) || ',' ||
		       (SELECT count(*) FROM pg_class WHERE relname = 'secret_code_idx') || ',' ||
		       (SELECT count(*) FROM morgenmigrate.schema_migrations WHERE filename = '003_index_secret.sql') || ',' ||
		       (to_regclass('app.item_tags') IS NOT NULL)}),
	'0,0,0,true',
	'permission error: no index on the table, 003 not applied, its earlier statement committed');
is( $node->safe_psql('postgres', q{SELECT count(*) FROM pg_stat_activity
		WHERE backend_type = 'morgenmigrate worker'}),
	'0', 'no worker is left');

# the same file run by a superuser after the deployer's failure: the worker
# has the rights of the caller, so it now succeeds
($ret, $out, $err) = ('', '', '');
$ret = $node->psql('postgres', "SET search_path = app; CALL morgenmigrate.migrate_run('$dir')",
	stdout => \$out, stderr => \$err);
is($ret, 0, 'a superuser caller can build the index that the deployer could not') or diag($err);
is( $node->safe_psql('postgres', q{
		SELECT indisvalid FROM pg_index WHERE indexrelid = 'public.secret_code_idx'::regclass}),
	't', 'the superuser\'s concurrent build is valid');
is( $node->safe_psql('postgres', q{
		SELECT backend_type || '|' || usename || '|' || current_role_name FROM public.ddl_seen
		 WHERE tag = 'CREATE INDEX' ORDER BY seq DESC LIMIT 1}),
	'morgenmigrate worker|' . superuser() . '|' . superuser(), 'and its worker ran as the superuser');

$node->stop;
done_testing();
