# A pg_cron job whose command is CALL morgenmigrate.migrate_run('<dir>')
# applies a set holding CREATE INDEX CONCURRENTLY on its own: the indexes are valid, the history complete, no worker is
# left.  A second job, in another database and the same minute, runs a
# unique concurrent build over duplicate data: pg_cron shows that run as
# failed with the migration's error, and the history records the failure
# while the file before it stays applied.
#
# pg_cron 1.4 schedules by the minute: both jobs are scheduled first, then
# one wait polls cron.job_run_details until each has finished once.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../perl";
use MorgenmigrateTest qw(cron_node wait_for_cron_runs cron_first_run);

my $node = cron_node('toplevel_cron');

my $dir = PostgreSQL::Test::Utils::tempdir();
PostgreSQL::Test::Utils::append_to_file("$dir/001_create_events.sql", <<'EOF');
CREATE TABLE events (id bigint PRIMARY KEY, kind text NOT NULL, at timestamptz NOT NULL);
INSERT INTO events
SELECT g, 'kind' || g % 13, timestamptz '2024-01-01' + g * interval '1 minute'
  FROM generate_series(1, 10000) g;
EOF
PostgreSQL::Test::Utils::append_to_file("$dir/002_index_events.sql", <<'EOF');
CREATE INDEX CONCURRENTLY events_kind_idx ON events (kind);
CREATE INDEX CONCURRENTLY events_at_idx ON events (at);
ALTER TABLE events ADD COLUMN source text;
VACUUM (ANALYZE) events;
EOF
PostgreSQL::Test::Utils::append_to_file("$dir/003_more.sql",
	"CREATE TABLE event_sources (name text PRIMARY KEY);\n");

my $tdir = PostgreSQL::Test::Utils::tempdir();
PostgreSQL::Test::Utils::append_to_file("$tdir/001_create_users.sql", <<'EOF');
CREATE TABLE users (id integer PRIMARY KEY, email text NOT NULL);
INSERT INTO users SELECT g, 'u' || g || '@example.com' FROM generate_series(1, 1000) g;
INSERT INTO users VALUES (1001, 'u5@example.com');
EOF
PostgreSQL::Test::Utils::append_to_file("$tdir/002_unique_email.sql", <<'EOF');
CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email);
EOF

my %job;
$job{apply} = $node->safe_psql('app',
	"SELECT cron.schedule('mm_cic', '* * * * *', \$\$CALL morgenmigrate.migrate_run('$dir')\$\$)");
$job{fail} = $node->safe_psql('app',
	"SELECT cron.schedule_in_database('mm_cic_dup', '* * * * *', "
	  . "\$\$CALL morgenmigrate.migrate_run('$tdir')\$\$, 'tenant')");

# One wait for both jobs: until each has a finished run, at most ~150 s.
my $finished = wait_for_cron_runs($node, 2);
$node->safe_psql('app', 'SELECT cron.unschedule(jobid) FROM cron.job');
is($finished, 2, 'both pg_cron jobs finished a run');
note $node->safe_psql('app',
	'SELECT jobid, runid, status, return_message FROM cron.job_run_details ORDER BY runid');

# The first finished run of a job: "status|return_message".
sub first_run
{
	my ($name) = @_;
	return cron_first_run($node, $job{$name});
}

like(first_run('apply'), qr/^succeeded\|CALL$/, 'the migrate_run job succeeded');
is( $node->safe_psql('app', q{
		SELECT string_agg(filename, ',' ORDER BY filename) FROM morgenmigrate.schema_migrations}),
	'001_create_events.sql,002_index_events.sql,003_more.sql',
	'the job applied the whole set');
is( $node->safe_psql('app', q{
		SELECT string_agg(indexrelid::regclass || ':' || indisvalid, ',' ORDER BY indexrelid::regclass::text)
		  FROM pg_index WHERE indrelid = 'events'::regclass}),
	'events_at_idx:true,events_kind_idx:true,events_pkey:true',
	'the concurrently built indexes are valid');
is( $node->safe_psql('app', q{
		SELECT pg_stat_get_last_vacuum_time('events'::regclass) IS NOT NULL
		   AND to_regclass('event_sources') IS NOT NULL}),
	't', 'the VACUUM and the file after it ran');
is($node->safe_psql('app', 'SELECT count(*) FROM morgenmigrate.migration_errors'),
	'0', 'no failure is recorded in app');

my $fail = first_run('fail');
like($fail, qr/^failed\|/, 'the job over duplicate data failed in cron.job_run_details');
like($fail, qr/could not create unique index "users_email_key"/,
	'its return_message has the error of the build');
like($fail, qr/migration "002_unique_email\.sql", line 1/,
	'and the migration\'s context');
is( $node->safe_psql('tenant', q{
		SELECT string_agg(filename, ',' ORDER BY filename) FROM morgenmigrate.schema_migrations}),
	'001_create_users.sql', 'the file before the failing one stays applied in tenant');
is( $node->safe_psql('tenant', q{
		SELECT filename || '|' || sqlstate || '|' || detail FROM morgenmigrate.migration_errors}),
	'002_unique_email.sql|23505|Key (email)=(u5@example.com) is duplicated.',
	'the failure is recorded with its SQLSTATE and detail');
is( $node->safe_psql('postgres', q{SELECT count(*) FROM pg_stat_activity
		WHERE backend_type = 'morgenmigrate worker'}),
	'0', 'no worker is left');

$node->stop;
done_testing();
