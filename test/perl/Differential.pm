# The differential test of morgenmigrate against the real runners
# (test/t/110_differential.pl): one generated directory (DifferentialGen)
# is migrated by the runner on one database and by morgenmigrate, with the
# layout detected, on another, and the two are compared:
#
#  - what ran, in what order: the rows the migrations leave in diff_log;
#  - the schema (pg_dump --schema-only, the runner's table left out);
#  - which migrations each history holds, as the runner keys them;
#  - the failing file and SQLSTATE when a migration fails (the runner's
#    SQLSTATE as the server logged it);
#  - migrate_adopt of the runner's database against morgenmigrate's own
#    history of the other;
#  - the rollback of the last migration: the runner's own against
#    migrate_rollback.
#
# Where morgenmigrate refuses a directory (or a rollback) the runner takes,
# the refusal must be one of %accepted below, each naming the rule of the
# README it follows, and must leave the database as it was; any other
# refusal, and any difference, is reported with the directory's files.
package Differential;

use strict;
use warnings;

use Exporter 'import';
use File::Path qw(make_path remove_tree);
use PostgreSQL::Test::Utils qw(slurp_file);
use MorgenmigrateTest qw(runner_command run_command dump_schema);

our @EXPORT_OK = qw(prepare_node check_directory minimize accepted_refusals describe_directory);

# What the test needs to know of each runner: how it keys its history
# (from a file name), where it keeps it, whether it runs all pending
# migrations in one transaction (node-pg-migrate's default) or commits
# each, and how its output names the migration it was at.
my %runners = (
	dbmate => {
		tables => ['public.schema_migrations'],
		# (dbmate keeps no order: its versions are compared sorted)
		history => 'SELECT version FROM public.schema_migrations ORDER BY version',
		unordered => 1,
		key => sub { $_[0] =~ /^(\d+)/ ? $1 : "($_[0])" },
		at => qr/^(?:Applying|Rolling back): (.*)$/m,
		# (dbmate looks for its table before it says it found no migration)
		noise => qr/^relation "public\.schema_migrations" does not exist/,
		# (its refusal of a directory that need not tell the layout: one
		# without a file it reads, or with a file without its markers)
		unsettled => qr/no migration files found|requires each migration to define an up block/,
	},
	'node-pg-migrate' => {
		tables => [ 'public.pgmigrations', 'public.pgmigrations_id_seq' ],
		history => 'SELECT name FROM public.pgmigrations ORDER BY run_on, id',
		# the name without what Node's extname() calls its extension
		key => sub { $_[0] =~ s/(?<=[^.])\.[^.]*\z//r },
		at => qr/^### MIGRATION (.*) \((?:UP|DOWN)\) ###$/m,
		atomic => 1,
		names_by_key => 1,
		# (its refusal of a file that need not tell the layout: one it
		# cannot load or order, such as x.sql.bak)
		unsettled => qr/Error loading migration files/,
	},
	postgrator => {
		tables => ['public.schemaversion'],
		# (the row of version 0 is postgrator's own start)
		history => 'SELECT version FROM public.schemaversion WHERE version <> 0 ORDER BY run_at, version',
		key => \&js_number_version,
		at => qr/ running (?:.*\/)?(.*)$/m,
		# (postgrator-cli asks for its table's version before it makes it)
		noise => qr/^relation "public\.schemaversion" does not exist/,
		# (its refusal of a directory that need not tell the layout: one
		# without a file it reads)
		unsettled => qr/No migration files found/,
	},
	'sql-migrate' => {
		tables => ['public.gorp_migrations'],
		history => 'SELECT id FROM public.gorp_migrations ORDER BY applied_at, id',
		key => sub { $_[0] },
		at => qr/ handling (.*)$/m,
		# (its refusal of a file that need not tell the layout: one
		# without its markers)
		unsettled => qr/no Up\/Down annotations found/,
	},
);

# The white space JavaScript's Number() trims from both ends: ASCII blanks,
# NO-BREAK SPACE, the Unicode spaces, the line and paragraph separators and
# the byte-order mark, as characters or as their UTF-8 bytes.
my $js_space = qr/(?:[\t\n\x0b\f\r \x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}\x{feff}]
	|\xc2\xa0|\xe1\x9a\x80|\xe2\x80[\x80-\x8a\xa8\xa9\xaf]|\xe2\x81\x9f|\xe3\x80\x80|\xef\xbb\xbf)/x;

# postgrator's version of a file name: Number() of the text before the
# first dot, as JavaScript reads it (white space around it trimmed).
sub js_number_version
{
	my ($name) = @_;
	my ($v) = split /\./, $name;
	$v //= '';
	$v =~ s/^$js_space+//;
	$v =~ s/$js_space+$//;
	return 0 if $v eq '';
	return hex($1) if $v =~ /^0x([0-9a-f]+)$/i;
	return 0 + $v if $v =~ /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;
	return "($name)";
}

# The refusals of morgenmigrate accepted where a runner takes what it is
# given: by runner, SQLSTATE and message (and detail or hint), each with
# the rule it follows, quoted from README.md (the test checks that the
# README says so).  A refusal marked same_failure is accepted only where
# the runner failed at the same file with the same SQLSTATE:
# morgenmigrate found before anything ran what the runner found when it
# got there; one marked runner_refuses (a rule the runner has too) only
# where the runner did not take the directory either.  Where the runner itself refused the directory before
# running anything, any refusal agrees with it.
my @all = ('dbmate', 'node-pg-migrate', 'postgrator', 'sql-migrate');
my @accepted = (
	{
		name => 'a migration only its own runner can run',
		runners => [ 'node-pg-migrate', 'postgrator' ],
		sqlstate => '0A000',
		message => qr/^migration ".*" is a .* migration, which morgenmigrate cannot run$/,
		rule => 'Migrations only their own runner can run',
	},
	{
		name => 'a link to a directory named as a migration',
		runners => [ 'dbmate', 'node-pg-migrate' ],
		sqlstate => '22023',
		message => qr/^".*" in migration directory ".*" is a link to a directory, which (?:dbmate|node-pg-migrate) reads as a migration file$/,
		runner_refuses => 1,
		rule => 'dbmate and node-pg-migrate list a link to a directory as a file',
	},
	{
		name => 'names of two layouts',
		runners => \@all,
		sqlstate => '22023',
		message => qr/^migration directory ".*" mixes layouts$/,
		detail => qr/ is named as /,
		rule => 'a directory that mixes layouts',
	},
	{
		name => 'markers of two runners in one directory',
		runners => \@all,
		sqlstate => '22023',
		message => qr/^migration directory ".*" mixes layouts$/,
		detail => qr/ carries .* markers, .* markers\.$/,
		runner_refuses => 1,
		rule => 'a directory that mixes layouts',
	},
	{
		name => 'a no-transaction file under migrate_apply',
		runners => \@all,
		sqlstate => '25001',
		message => qr/./,
		hint => qr/migrate_run/,
		rule => 'migrate_apply` refuses them in its preflight (25001)',
	},
	{
		name => 'no down migration',
		runners => \@all,
		sqlstate => '58P01',
		message => qr/^\d+ migrations? to roll back ha(?:s|ve) no down file$|^migration ".*" has no down section$/,
		rule => 'A migration without a down migration is an error (58P01)',
	},
	{
		name => 'the preflight found the failure',
		runners => \@all,
		sqlstate => '*',
		message => qr/./,
		same_failure => 1,
		rule => 'every file the call will run is read, parsed and checked',
	},
	{
		name => 'dbmate: no down section',
		runner_refuses => 1,
		runners => ['dbmate'],
		sqlstate => '42601',
		message => qr/^malformed dbmate migration ".*": no -- migrate:down marker$/,
		rule => 'a dbmate file without its down section',
	},
	{
		name => 'dbmate: SQL before the up section',
		runner_refuses => 1,
		runners => ['dbmate'],
		sqlstate => '42601',
		message => qr/^malformed dbmate migration ".*": a statement before -- migrate:up$/,
		rule => 'SQL before `-- migrate:up`',
	},
	{
		name => 'dbmate: several up/down pairs',
		runners => ['dbmate'],
		sqlstate => '42601',
		message => qr/^malformed dbmate migration ".*": a second -- migrate:up marker$/,
		rule => 'dbmate files with several up/down pairs (newer dbmate) are refused',
	},
	{
		name => 'dbmate: down before up',
		runner_refuses => 1,
		runners => ['dbmate'],
		sqlstate => '42601',
		message => qr/^malformed dbmate migration ".*": -- migrate:down before -- migrate:up$/,
		rule => '`Down` before `Up`',
	},
	{
		name => 'dbmate: a second down section',
		runner_refuses => 1,
		runners => ['dbmate'],
		sqlstate => '42601',
		message => qr/^malformed dbmate migration ".*": a second -- migrate:down marker$/,
		rule => 'a second `Down`',
	},
	{
		name => 'dbmate: a file without markers',
		runner_refuses => 1,
		runners => ['dbmate'],
		sqlstate => '22023',
		message => qr/^migration ".*" has no dbmate markers$/,
		rule => 'a file whose markers its runner would refuse',
	},
	{
		name => 'dbmate: no up section',
		runner_refuses => 1,
		runners => ['dbmate'],
		sqlstate => '42601',
		message => qr/^malformed dbmate migration ".*": no -- migrate:up marker$/,
		rule => 'a dbmate file without `-- migrate:up`',
	},
	{
		name => 'dbmate: a misspelt marker',
		runner_refuses => 1,
		runners => ['dbmate'],
		sqlstate => '42601',
		message => qr/^malformed dbmate migration ".*": a line reads like a dbmate marker, which dbmate does not read as one$/,
		rule => 'dbmate file whose only marker-like lines are misspelt',
	},
	{
		name => 'dbmate: CREATE INDEX CONCURRENTLY in dbmate\'s transaction',
		runner_refuses => 1,
		runners => ['dbmate'],
		sqlstate => '25001',
		message => qr/^.* cannot run inside a transaction block$/,
		detail => qr/^dbmate runs this part of the migration in a transaction of its own/,
		rule => 'A section that dbmate runs in its transaction',
	},
	{
		name => 'a batch holding CREATE INDEX CONCURRENTLY beside other statements',
		runner_refuses => 1,
		runners => [ 'dbmate', 'postgrator' ],
		sqlstate => '25001',
		message => qr/^.* cannot run in one batch with other statements$/,
		rule => 'such a block holding, beside other statements, one no transaction can hold',
	},
	{
		name => 'dbmate: two migrations of one version',
		runner_refuses => 1,
		runners => ['dbmate'],
		sqlstate => '42710',
		message => qr/^migrations ".*" and ".*" have the same version \d+$/,
		rule => 'Two dbmate files of one version',
	},
	{
		name => 'a byte-order mark',
		runner_refuses => 1,
		runners => [ 'dbmate', 'postgrator' ],
		sqlstate => '42601',
		message => qr/^malformed (?:dbmate|postgrator) migration ".*": the file starts with a byte-order mark$/,
		rule => 'A byte-order mark is refused (42601) in dbmate files',
	},
	{
		name => 'postgrator: a name it reads otherwise',
		runners => ['postgrator'],
		sqlstate => '22023',
		message => qr/^".*" in migration directory ".*" is not a migration postgrator can read$/,
		rule => 'A postgrator name that postgrator reads but never runs, or would run and then fail to record',
	},
	{
		name => 'postgrator: an undo file without its do file',
		runners => ['postgrator'],
		sqlstate => '58P01',
		message => qr/^down migration ".*" has no up migration$/,
		rule => 'An undo file without its do file is refused (58P01)',
	},
	{
		name => 'another runner\'s migration',
		runners => ['postgrator'],
		sqlstate => '22023',
		message => qr/^migration ".*" carries .* markers in a directory laid out for postgrator$/,
		rule => 'that carries another runner\'s markers where they make a migration of that runner',
	},
	{
		name => 'node-pg-migrate: a down marker without an up marker',
		runners => ['node-pg-migrate'],
		sqlstate => '42601',
		message => qr/^malformed node-pg-migrate migration ".*": a Down Migration marker without an Up Migration marker$/,
		rule => 'node-pg-migrate runs a file that has a `Down Migration` marker but no `Up Migration` marker whole',
	},
	{
		name => 'node-pg-migrate: a file it cannot load or order',
		runners => ['node-pg-migrate'],
		sqlstate => '22023',
		message => qr/^".*" in migration directory ".*" is not a migration node-pg-migrate can read$/,
		rule => 'a file it cannot load (`README.md`, `notes.txt`, `x.sql.bak`) or order',
	},
	{
		name => 'node-pg-migrate: a marker inside a string, a body or a comment',
		runners => ['node-pg-migrate'],
		sqlstate => '42601',
		message => qr/^malformed node-pg-migrate migration ".*": a line that reads like a marker lies inside a string, a quoted name, a body or a comment$/,
		rule => 'a line that reads like its marker inside a string, a quoted name, a function body or a comment is refused (42601)',
	},
	{
		name => 'node-pg-migrate: an order it leaves to chance',
		runners => ['node-pg-migrate'],
		sqlstate => '42710',
		message => qr/^migrations ".*" and ".*" have the same (?:number|name) /,
		rule => 'two migrations of one number whose names differ only in punctuation or leading zeros',
	},
	{
		name => 'a byte-order mark its runner reads as text',
		runners => [ 'node-pg-migrate', 'sql-migrate' ],
		sqlstate => '42601',
		message => qr/^malformed (?:node-pg-migrate|sql-migrate) migration ".*": the file starts with a byte-order mark$/,
		rule => 'where node-pg-migrate or sql-migrate would read the mark as text',
	},
	{
		name => 'another runner\'s markers in the file',
		runners => [ 'node-pg-migrate', 'sql-migrate' ],
		sqlstate => '*',
		message => qr/^malformed (?:dbmate|goose) migration |^migration ".*" carries the markers of two runners$/,
		rule => 'A file that carries another runner\'s markers',
	},
	{
		name => 'node-pg-migrate: sql-migrate\'s markers in the file',
		runners => ['node-pg-migrate'],
		sqlstate => '*',
		message => qr/^malformed sql-migrate migration |^migration ".*" has no (?:dbmate|goose|sql-migrate) markers$/,
		rule => 'A file that carries another runner\'s markers',
	},
	{
		name => 'names of golang-migrate',
		runners => [ 'dbmate', 'node-pg-migrate', 'sql-migrate' ],
		sqlstate => '*',
		message => qr/^migration ".*" carries .* markers in a directory laid out for golang-migrate$/,
		rule => 'Names that say a layout win over the markers in the files',
	},
	{
		name => 'names of golang-migrate: a down file alone',
		runners => [ 'dbmate', 'node-pg-migrate', 'sql-migrate' ],
		sqlstate => '58P01',
		message => qr/^down migration ".*" has no up migration$/,
		detail => qr/^golang-migrate /,
		rule => 'Names that say a layout win over the markers in the files',
	},
	{
		name => 'sql-migrate: an unknown command',
		runners => ['sql-migrate'],
		sqlstate => '42601',
		message => qr/^malformed sql-migrate migration ".*": unknown command ".*"$/,
		rule => 'sql-migrate ignores unknown commands such as `-- +migrate down`; morgenmigrate refuses them',
	},
	{
		name => 'sql-migrate: a statement without its semicolon',
		runner_refuses => 1,
		runners => ['sql-migrate'],
		sqlstate => '42601',
		message => qr/^malformed sql-migrate migration ".*": a statement is not ended by a semicolon$/,
		rule => 'a statement without its semicolon where goose or sql-migrate needs one',
	},
	{
		name => 'sql-migrate: an unterminated statement block',
		runner_refuses => 1,
		runners => ['sql-migrate'],
		sqlstate => '42601',
		message => qr/^malformed sql-migrate migration ".*": -- \+migrate StatementBegin without -- \+migrate StatementEnd$/,
		rule => 'an unterminated `StatementBegin`',
	},
	{
		name => 'sql-migrate: a file without an Up section',
		runners => ['sql-migrate'],
		sqlstate => '42601',
		message => qr/^malformed sql-migrate migration ".*": no -- \+migrate Up section$/,
		rule => 'a file without an `Up` section (sql-migrate records it without running anything)',
	},
	{
		name => 'sql-migrate: half a statement',
		runners => ['sql-migrate'],
		sqlstate => '42601',
		message => qr/^malformed sql-migrate migration ".*": (?:sql-migrate ends a statement at the semicolon on this line, the server does not|-- \+migrate StatementEnd inside a string, a comment or a quoted body|a statement before -- \+migrate StatementBegin is not ended by a semicolon)$/,
		rule => 'Where goose or sql-migrate would end a statement elsewhere than the server',
	},
	{
		name => 'sql-migrate: text it drops from a statement',
		runners => ['sql-migrate'],
		sqlstate => '42601',
		message => qr/^malformed sql-migrate migration ".*": sql-migrate drops (?:(?:this line|the carriage return at the end of this line) from the string, body or comment it stands in|this line, with the SQL after the carriage return in it)$/,
		rule => 'sql-migrate drops every line that starts with `-- `',
	},
	{
		name => 'sql-migrate: a file it would read leniently',
		runners => ['sql-migrate'],
		sqlstate => '42601',
		message => qr/^malformed sql-migrate migration ".*": (?:a second -- \+migrate (?:Up|Down) section|-- \+migrate StatementBegin (?:before -- \+migrate Up or Down|inside a statement block)|-- \+migrate StatementEnd without -- \+migrate StatementBegin|-- \+migrate (?:Up|Down) inside a statement block)$/,
		rule => 'a second `Up` or `Down` section (sql-migrate joins them)',
	},
	{
		name => 'sql-migrate: a numeric prefix beyond 64 bits',
		runners => ['sql-migrate'],
		sqlstate => '22023',
		message => qr/^".*" in migration directory ".*" is not a migration sql-migrate can read$/,
		detail => qr/64-bit/,
		rule => 'whose numeric prefix is beyond a signed 64-bit number',
	},
	{
		name => 'sql-migrate: a hidden migration',
		runners => ['sql-migrate'],
		sqlstate => '22023',
		message => qr/^".*" in migration directory ".*" is a hidden migration$/,
		rule => 'sql-migrate runs a hidden `.x.sql` file too',
	},
	{
		name => 'sql-migrate: a file without markers',
		runner_refuses => 1,
		runners => ['sql-migrate'],
		sqlstate => '22023',
		message => qr/^migration ".*" has no sql-migrate markers$/,
		rule => 'a file whose markers its runner would refuse',
	},
);

# The accepted refusals, for the test to check each rule is documented.
sub accepted_refusals { return @accepted }

# The refusal of @accepted an error of morgenmigrate's for RUNNER is, or
# undef.
sub accepted_refusal
{
	my ($runner, $err, $runner_failed_same, $runner_ok) = @_;
	for my $a (@accepted)
	{
		next unless grep { $_ eq $runner } @{ $a->{runners} };
		next if $a->{same_failure} && !$runner_failed_same;
		next if $a->{runner_refuses} && $runner_ok;
		next if $a->{sqlstate} ne '*' && $a->{sqlstate} ne $err->{sqlstate};
		next if $err->{message} !~ $a->{message};
		next if $a->{detail} && ($err->{detail} // '') !~ $a->{detail};
		next if $a->{hint} && ($err->{hint} // '') !~ $a->{hint};
		return $a;
	}
	return undef;
}

# Sets up NODE for the test: its log names each error's database and
# SQLSTATE (the runners' errors are read there), and a template database
# with morgenmigrate and the table diff_log.
sub prepare_node
{
	my ($node) = @_;
	$node->append_conf('postgresql.conf', "log_line_prefix = '%m [%p] %d %e '\nfsync = off\n");
	$node->start;
	$node->safe_psql('postgres', 'CREATE DATABASE diff_template');
	$node->safe_psql('diff_template', q{
		CREATE EXTENSION morgenmigrate;
		CREATE TABLE diff_log (id serial PRIMARY KEY, file text NOT NULL, part text NOT NULL);
	});
	return dump_schema($node, 'diff_template');
}

# A database of NODE made anew from the template.
sub fresh_database
{
	my ($node, $db) = @_;
	$node->safe_psql('postgres', "DROP DATABASE IF EXISTS $db WITH (FORCE)");
	$node->safe_psql('postgres', "CREATE DATABASE $db TEMPLATE diff_template");
}

# Runs SQL in database DB of NODE; returns its output and the error it
# raised, if any: { sqlstate, message, detail, hint, context, file }.
sub mm_sql
{
	my ($node, $db, $sql) = @_;
	my ($out, $stderr) = ('', '');
	$node->psql($db, "\\set VERBOSITY verbose\n$sql", stdout => \$out, stderr => \$stderr,
		on_error_stop => 1);
	return ($out, parse_error($stderr));
}

# The error psql reported in STDERR (verbose), or undef.
sub parse_error
{
	my ($stderr) = @_;
	return undef unless $stderr =~ /ERROR:  (\w{5}): (.*)$/m;
	my %e = (sqlstate => $1, message => $2);
	my $rest = substr($stderr, $+[0]);
	$e{detail} = $1 if $rest =~ /^DETAIL:  (.*)$/m;
	$e{hint} = $1 if $rest =~ /^HINT:  (.*)$/m;
	$e{context} = $1 if $rest =~ /^CONTEXT:  (.*)$/m;
	$e{file} = $1 if ($e{context} // '') =~ /migration "([^"]*)"/;
	return \%e;
}

# One line for an error.
sub show_error
{
	my ($e) = @_;
	return join ' ', "$e->{sqlstate}: $e->{message}",
	  map { defined $e->{$_} ? "[$_: $e->{$_}]" : () } qw(detail hint context);
}

# What a migration run changed that the test sees without pg_dump: the
# trace rows and the runner's history.
sub traces
{
	my ($t, $db) = @_;
	my ($history) = mm_sql($t->{node}, $db, $runners{ $t->{runner} }{history});
	return $t->{node}->safe_psql($db, 'SELECT file, part FROM diff_log ORDER BY id') . "\n$history";
}

# Runs the runner on database DB: ACTION 'up' or 'down' (postgrator: a
# target).  Returns { status => ok | failed | refused, at, sqlstate,
# message, output, ran_nothing }: failed when the server logged an error
# of DB while it ran (the last one), refused when the runner stopped by
# itself; ran_nothing when neither the traces nor its history changed.
sub runner_run
{
	my ($t, $db, $action) = @_;
	my $node = $t->{node};
	my $before = traces($t, $db);
	my $offset = -s $node->logfile;
	my ($cmd, %env) = runner_command(runner => $t->{runner}, node => $node, db => $db,
		dir => $t->{dir}, action => $action, config_dir => $t->{work});
	my ($ok, $out, $err) = run_command($t->{work}, $cmd, %env);
	my $output = "$out$err";
	my %r = (status => 'ok', output => $output);
	return \%r if $ok;
	$r{ran_nothing} = traces($t, $db) eq $before;
	my $log = slurp_file($node->logfile, $offset);
	my $noise = $runners{ $t->{runner} }{noise} // qr/^\z/;
	my @errors;
	while ($log =~ /^\S+ \S+ \S+ \[\d+\] \Q$db\E (\w{5}) ERROR:  (.*)$/mg)
	{
		push @errors, [ $1, $2 ] if $2 !~ $noise;
	}
	my @at = $output =~ /$runners{ $t->{runner} }{at}/g;
	$r{at} = $at[-1];
	if (@errors)
	{
		@r{qw(status sqlstate message)} = ('failed', @{ $errors[-1] });
	}
	else
	{
		$r{status} = 'refused';
		($r{message}) = ($output =~ /^(.*(?:error|panic).*)$/mi, grep { /\S/ } reverse split /\n/, $output);
	}
	return \%r;
}

# Whether the runner's name for the migration it was at names FILE.
sub runner_at_file
{
	my ($t, $at, $file) = @_;
	return 0 unless defined $at && defined $file;
	my $rn = $runners{ $t->{runner} };
	return $rn->{names_by_key} ? $rn->{key}->($file) eq $at : $at eq $file;
}

# What the two databases hold: the trace rows in order, the schema, and
# the keys of the migrations each history holds, in the order they were
# applied (sorted for dbmate, which does not record it).
sub state_of
{
	my ($t, $db, $is_runner) = @_;
	my $rn = $runners{ $t->{runner} };
	my %s;
	$s{trace} = $t->{node}->safe_psql($db,
		q{SELECT file || ':' || replace(replace(part, E'\r', '\r'), E'\n', '\n') FROM diff_log ORDER BY id});
	$s{schema} = dump_schema($t->{node}, $db, @{ $rn->{tables} });
	my @keys;
	if ($is_runner)
	{
		my ($out, $err) = mm_sql($t->{node}, $db, $rn->{history});
		@keys = $err ? () : split /\n/, $out;
	}
	else
	{
		@keys = map { $rn->{key}->($_) } split /\n/, $t->{node}->safe_psql($db,
			'SELECT filename FROM morgenmigrate.schema_migrations ORDER BY applied_at, filename');
	}
	# in the order they were applied, where the runner records it
	@keys = sort @keys if $rn->{unordered};
	$s{history} = join ' ', @keys;
	$s{errors} = $t->{node}->safe_psql($db, 'SELECT count(*) FROM morgenmigrate.migration_errors')
	  unless $is_runner;
	return \%s;
}

# The differences between the runner's state R and morgenmigrate's M.
sub state_differences
{
	my ($what, $rname, $r, $m) = @_;
	my @d;
	push @d, "$what: the parts that ran differ (- only $rname, + only morgenmigrate)\n"
	  . line_diff($r->{trace}, $m->{trace})
	  if $r->{trace} ne $m->{trace};
	push @d, "$what: the histories differ: $rname has [$r->{history}], morgenmigrate [$m->{history}]"
	  if $r->{history} ne $m->{history};
	push @d, "$what: the schemas differ (- only $rname, + only morgenmigrate)\n"
	  . line_diff($r->{schema}, $m->{schema})
	  if $r->{schema} ne $m->{schema};
	return @d;
}

# The lines of A and B, marked "-" where only in A and "+" where only in
# B (from their longest common subsequence), with a line of context.
sub line_diff
{
	my ($a, $b) = @_;
	my @a = split /\n/, $a;
	my @b = split /\n/, $b;
	my @l;
	for (my $i = $#a; $i >= 0; $i--)
	{
		for (my $j = $#b; $j >= 0; $j--)
		{
			$l[$i][$j] =
			    $a[$i] eq $b[$j]
			  ? 1 + ($l[ $i + 1 ][ $j + 1 ] // 0)
			  : max($l[ $i + 1 ][$j] // 0, $l[$i][ $j + 1 ] // 0);
		}
	}
	my ($i, $j, @out) = (0, 0);
	while ($i < @a || $j < @b)
	{
		if ($i < @a && $j < @b && $a[$i] eq $b[$j]) { push @out, "  $a[$i]"; $i++; $j++ }
		elsif ($j < @b && ($i >= @a || ($l[$i][ $j + 1 ] // 0) >= ($l[ $i + 1 ][$j] // 0)))
		{
			push @out, "+ $b[$j++]";
		}
		else { push @out, "- $a[$i++]" }
	}
	# the changed lines with one line of context
	my %keep = map { ($_ - 1 => 1, $_ => 1, $_ + 1 => 1) } grep { $out[$_] !~ /^  / } 0 .. $#out;
	my ($last, @shown) = (-1);
	for my $k (grep { $keep{$_} } 0 .. $#out)
	{
		push @shown, '  ...' if $k > $last + 1;
		push @shown, $out[$k];
		$last = $k;
	}
	push @shown, '  ...' if $last < $#out;
	return indent(join("\n", @shown) || '(none)', 6);
}

# The larger of two numbers.
sub max { return $_[0] > $_[1] ? $_[0] : $_[1] }

# TEXT with every line indented by N spaces.
sub indent
{
	my ($text, $n) = @_;
	my $pad = ' ' x $n;
	return join "\n", map { "$pad$_" } split /\n/, $text;
}

# Compares what the runner did (R, from runner_run) with what
# morgenmigrate did (M: { status => ok | failed | error, file, error })
# in phase WHAT.  Returns (verdict, differences): verdict 'same' (compare
# the states), 'refused' (an accepted refusal, or neither side found a
# migration to run: compare nothing more) or 'differs'.
sub compare_outcomes
{
	my ($t, $what, $r, $m) = @_;
	my $rname = $t->{runner};
	my $rshow =
	    $r->{status} eq 'ok' ? 'succeeded'
	  : $r->{status} eq 'failed' ? "failed at " . ($r->{at} // '?') . " with $r->{sqlstate}: $r->{message}"
	  : "stopped at " . ($r->{at} // '?') . ": $r->{message}";
	my $mshow =
	    $m->{status} eq 'ok' ? 'succeeded'
	  : $m->{status} eq 'failed' ? "failed at $m->{file} with $m->{error}{sqlstate}: $m->{error}{message}"
	  : 'refused: ' . show_error($m->{error});
	$t->{outcome} = "$what: $rname $rshow; morgenmigrate $mshow";
	# the same error of the same file (the server log adds the position)
	my $same_failure = $r->{status} eq 'failed' && $m->{status} ne 'ok'
	  && $m->{error}{sqlstate} eq $r->{sqlstate} && runner_at_file($t, $r->{at}, $m->{file})
	  && $m->{error}{message} eq $r->{message} =~ s/ at character \d+\z//r;

	return ('same') if $r->{status} eq 'ok' && $m->{status} eq 'ok';
	# (a rollback of one migration is all or nothing on both sides)
	return ('same')
	  if $same_failure && ($m->{status} eq 'failed' || $runners{$rname}{atomic} || $what eq 'rollback');
	# a runner that finds no migration stops with an error, where
	# morgenmigrate, finding none either, runs nothing
	if ($m->{status} eq 'ok' && !$m->{applied} && $r->{status} eq 'refused' && $r->{ran_nothing}
		&& ($r->{message} // '') =~ /no migration files found/i)
	{
		$t->{refusals}{'no migration to run'}++;
		push @{ $t->{events} }, "$what: neither finds a migration to run ($rname $rshow)";
		return ('refused');
	}
	if ($m->{status} eq 'error' && $r->{status} eq 'refused' && $r->{ran_nothing})
	{
		$t->{refusals}{'both refuse'}++;
		push @{ $t->{events} }, "$what: both refuse: " . show_error($m->{error}) . " ($rname $rshow)";
		return ('refused');
	}
	if ($m->{status} eq 'error')
	{
		my $a = accepted_refusal($rname, $m->{error}, $same_failure, $r->{status} eq 'ok');
		if ($a)
		{
			$t->{refusals}{ $a->{name} }++;
			push @{ $t->{events} }, "$what: accepted refusal ($a->{name}): " . show_error($m->{error})
			  . " ($rname $rshow)";
			return ('refused');
		}
		return ('differs', "$what: morgenmigrate refused with no documented rule: " . show_error($m->{error})
			  . "\n    ($rname $rshow)");
	}
	return ('differs', "$what: $rname $rshow; morgenmigrate $mshow");
}

# Runs morgenmigrate's FUNCTION (migrate_apply or migrate_rollback) on
# database DB as the runner would run the directory; a refusal because a
# file must run outside a transaction is followed by the procedure that
# runs it (PROCEDURE), except where the runner runs everything in one
# transaction; LAYOUT, if given, is set as morgenmigrate.layout first.
# Returns { status => ok | failed | error, file, error,
# applied (when ok: the number of migrations the function applied or
# rolled back) }.
sub mm_run
{
	my ($t, $db, $call, $procedure, $layout) = @_;
	my $node = $t->{node};
	my $set = $layout ? "SET morgenmigrate.layout = '$layout';\n" : '';
	my ($out, $err) = mm_sql($node, $db, "${set}SELECT filename, status FROM morgenmigrate.$call");
	my $via = 'function';
	if ($err && $err->{sqlstate} eq '25001' && ($err->{hint} // '') =~ /\Q$procedure\E/
		&& !$runners{ $t->{runner} }{atomic})
	{
		$t->{refusals}{'a no-transaction file under migrate_apply'}++;
		($out, $err) = mm_sql($node, $db, "${set}CALL morgenmigrate.$procedure('$t->{dir}')");
		$via = 'procedure';
	}
	if ($err)
	{
		# a failure recorded by a run that commits each file, or a refusal
		my ($failed) = grep { length } split /\n/, $node->safe_psql($db,
			'SELECT filename FROM morgenmigrate.migration_errors');
		return { status => 'failed', file => $failed, error => $err }
		  if $via eq 'procedure' && $failed && $call =~ /^migrate_apply/;
		return { status => 'error', file => $err->{file}, error => $err };
	}
	for my $row (split /\n/, $out)
	{
		my ($file, $status) = split /\|/, $row;
		next unless $status eq 'failed';
		my ($sqlstate, $message) = split /\|/, $node->safe_psql($db,
			"SELECT sqlstate, message FROM morgenmigrate.migration_errors WHERE filename = "
			  . quote_literal($file));
		return { status => 'failed', file => $file, error => { sqlstate => $sqlstate, message => $message } };
	}
	return { status => 'ok', applied => scalar(grep { length } split /\n/, $out) };
}

# TEXT as an SQL literal.
sub quote_literal { my ($s) = @_; $s =~ s/'/''/g; return "'$s'" }

# Writes the directory of SPEC (DifferentialGen::generate) into DIR.
sub write_directory
{
	my ($dir, $spec) = @_;
	make_path($dir);
	make_path("$dir/$_") for @{ $spec->{dirs} };
	for my $e (@{ $spec->{entries} })
	{
		if (defined $e->{link})
		{
			symlink($e->{link}, "$dir/$e->{path}") or die "symlink $dir/$e->{path}: $!";
			next;
		}
		open my $fh, '>:raw', "$dir/$e->{path}" or die "open $dir/$e->{path}: $!";
		print $fh $e->{bytes};
		close $fh;
	}
}

# The directory of SPEC as text: each file's name and contents, with
# what cannot be seen made visible.
sub describe_directory
{
	my ($spec) = @_;
	my @out = ('  quirks: ' . (join(', ', @{ $spec->{quirks} }) || 'none'));
	for my $e (sort { $a->{path} cmp $b->{path} } @{ $spec->{entries} })
	{
		if (defined $e->{link})
		{
			push @out, "  $e->{path} -> $e->{link} (a symbolic link)";
			next;
		}
		my $text = $e->{bytes};
		my $shown = $text;
		$shown =~ s/\A\xef\xbb\xbf/<BOM>/;
		$shown =~ s/\r/<CR>/g;
		$shown =~ s/\t/<TAB>/g;
		push @out, "  $e->{path}:" . (length $text ? '' : ' (empty)');
		push @out, map { "    | $_" } split /\n/, $shown;
		push @out, '    (no final newline)' if length $text && $text !~ /\n\z/;
	}
	push @out, "  $_/ (a subdirectory)" for grep { my $d = $_; !grep { index($_->{path}, "$d/") == 0 } @{ $spec->{entries} } } @{ $spec->{dirs} };
	return join "\n", @out;
}

# Migrates the directory of SPEC with the runner and with morgenmigrate
# and compares them (T: { node, runner, base (a work directory),
# empty_schema (prepare_node's), refusals (counts, by rule), compared (a
# count of the directories where both applied migrations and agree) }).  Returns
# the differences (none when they agree).
sub check_directory
{
	my ($t, $spec, $label) = @_;
	my $rname = $t->{runner};
	my $work = "$t->{base}/$label";
	remove_tree($work);
	make_path($work);
	local $t->{work} = $work;
	local $t->{dir} = "$work/migrations";
	write_directory($t->{dir}, $spec);
	my $node = $t->{node};
	my ($rdb, $mdb) = ('runner_db', 'mm_db');
	fresh_database($node, $_) for $rdb, $mdb;
	my @d;

	# up: everything the directory holds
	my $r = runner_run($t, $rdb, 'up');
	my $atomic = $runners{$rname}{atomic} ? '' : ', atomic => false';
	my $m = mm_run($t, $mdb, "migrate_apply('$t->{dir}'$atomic)", 'migrate_run');
	# a directory whose files carry nothing of the runner's (no markers, or
	# none that morgenmigrate reads at all, such as x.sql.bak, a.sql or a
	# diesel subdirectory) is not known to be its own: it is one of
	# morgenmigrate's own layout too.  Where the runner refuses such a file,
	# or finds no migration, morgenmigrate must refuse the directory, or find
	# none either, with the runner's layout set.
	if ($m->{status} eq 'ok' && $r->{status} eq 'refused' && $r->{ran_nothing}
		&& $runners{$rname}{unsettled} && $r->{output} =~ $runners{$rname}{unsettled})
	{
		fresh_database($node, $mdb);
		push @{ $t->{events} }, "apply: $rname refuses a file that need not tell the layout; morgenmigrate again, with the layout set";
		$m = mm_run($t, $mdb, "migrate_apply('$t->{dir}'$atomic)", 'migrate_run', $rname);
	}
	my ($verdict, @why) = compare_outcomes($t, 'apply', $r, $m);
	push @d, @why;
	if ($verdict eq 'refused')
	{
		push @d, unchanged($t, $mdb, 'apply', $t->{empty});
		return @d;
	}
	return @d if $verdict eq 'differs' && $m->{status} eq 'error';
	my $rs = state_of($t, $rdb, 1);
	my $ms = state_of($t, $mdb, 0);
	push @{ $t->{events} }, "apply: $rname ran [" . join(' ', split /\n/, $rs->{trace})
	  . '], morgenmigrate [' . join(' ', split /\n/, $ms->{trace}) . ']';
	push @d, state_differences('apply', $rname, $rs, $ms);
	return (@d, "($t->{outcome})") if @d;

	# the runner's history adopted, against morgenmigrate's own
	my ($out, $err) = mm_sql($node, $rdb,
		"SELECT filename FROM morgenmigrate.migrate_adopt('$t->{dir}') WHERE action = 'adopted' ORDER BY 1");
	my $mine = $node->safe_psql($mdb, 'SELECT filename FROM morgenmigrate.schema_migrations ORDER BY 1');
	if ($err)
	{
		push @d, 'adopt: migrate_adopt refused the runner\'s history: ' . show_error($err);
	}
	elsif ($out ne $mine)
	{
		push @d, "adopt: migrate_adopt recorded [" . join(', ', split /\n/, $out)
		  . "], morgenmigrate applied [" . join(', ', split /\n/, $mine) . ']';
	}
	return @d if @d;
	# both ran migrations and ended in the same state: a comparison that
	# proved something (a refusal on both sides proves less)
	$t->{compared}++ if $mine ne '';

	# the rollback of the last migration
	return @d if $mine eq '';
	my $action = 'down';
	if ($rname eq 'postgrator')
	{
		# postgrator's only way down: the version before the last one
		$action = $node->safe_psql($rdb,
			'SELECT version FROM public.schemaversion ORDER BY version DESC LIMIT 1 OFFSET 1');
	}
	$r = runner_run($t, $rdb, $action);
	$m = mm_run($t, $mdb, "migrate_rollback('$t->{dir}')", 'migrate_run_rollback');
	($verdict, @why) = compare_outcomes($t, 'rollback', $r, $m);
	push @d, @why;
	if ($verdict eq 'refused')
	{
		push @d, unchanged($t, $mdb, 'rollback', $ms->{schema}, $ms);
		return @d;
	}
	return @d if $verdict eq 'differs' && $m->{status} eq 'error';
	push @d, state_differences('rollback', $rname, state_of($t, $rdb, 1), state_of($t, $mdb, 0));
	return @d ? (@d, "($t->{outcome})") : ();
}

# The differences between database DB after a refusal and its state
# before it (BEFORE: a state_of, or the template's when undef; SCHEMA:
# the schema before).
sub unchanged
{
	my ($t, $db, $what, $schema, $before) = @_;
	my $now = state_of($t, $db, 0);
	$before //= { trace => '', history => '', schema => $schema, errors => 0 };
	my @d = state_differences("$what refused", 'before', $before, $now);
	push @d, "$what refused: morgenmigrate.migration_errors went from $before->{errors} to $now->{errors} rows"
	  if $now->{errors} != $before->{errors};
	return map { "$_ (a refusal must change nothing)" } @d;
}

# What a difference is, to tell whether a smaller directory shows the
# same one: its first line without names, and its changed lines.
sub signature
{
	my ($d) = @_;
	my ($line, @body) = split /\n/, $d;
	$line =~ s/"[^"]*"/""/g;
	$line =~ s/\[[^\]]*\]/[]/g;
	$line =~ s/ at \S.*? with / at X with /g;
	return join "\n", $line, grep { /^\s*[-+] / } @body;
}

# A smaller directory than SPEC with the same kind of difference as D (the
# differences of SPEC), found by leaving out one entry after the other
# while the difference stays; returns it and its differences.
sub minimize
{
	my ($t, $spec, $label, @d) = @_;
	my $sig = signature($d[0]);
	my $tries = 0;
	local $t->{refusals} = {};
	local $t->{events} = [];
  SMALLER:
	while ($tries < 8)
	{
		my @e = @{ $spec->{entries} };
		for my $i (0 .. $#e)
		{
			last SMALLER if $tries++ >= 8;
			next if @e == 1;
			my $try = { %$spec, entries => [ @e[ grep { $_ != $i } 0 .. $#e ] ] };
			my @td = check_directory($t, $try, "$label-smaller");
			next unless @td && signature($td[0]) eq $sig;
			($spec, @d) = ($try, @td);
			next SMALLER;
		}
		last;
	}
	remove_tree("$t->{base}/$label-smaller");
	return ($spec, @d);
}

1;
