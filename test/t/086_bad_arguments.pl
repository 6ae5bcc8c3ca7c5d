# Bad arguments, swept from the catalog: every function and procedure of
# the extension's schema (every overload of the 1.0 and 1.1 scripts, and
# any added later: the list is read from pg_proc, not written here) is
# called once with neutral arguments and then once for each bad value of
# each of its arguments, the others neutral.  The bad values go by the
# argument's type and name: NULL, an empty string, a relative path, a
# missing path, a regular file, a path longer than MAXPGPATH, a directory
# outside morgenmigrate.allowed_directories, an unknown target, negative,
# zero and huge integers, both booleans, empty arrays, arrays holding NULL,
# odd names, two-dimensional arrays, relations of the wrong shape for the
# push forms.
#
# Each call either succeeds or fails with a proper SQLSTATE (never class
# XX, never a lost connection) and a message in PostgreSQL's style (no
# capital first word, no closing period); a refused text value's message
# names the argument or the value.  Some bad values must be refused
# whatever else the call is given (must_refuse: NULL without a default,
# every bad directory, names that are not a plain list of existing ones,
# negative counts).  A STRICT function given a NULL returns NULL.  The
# directory cases run with morgenmigrate.allowed_directories set and,
# some of them, unset.  Whatever the outcome, the database is as before (the rows
# of every table of the extension's schema, the relations of the database,
# no lock of another session, no background worker left), unless the call
# succeeded and is one whose job is to change something (a rollback, a
# baseline...): then the database is put back from a template before the
# next call.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $root = PostgreSQL::Test::Utils::tempdir();
mkdir "$root/allowed" or die;
mkdir "$root/outside" or die;
my $good = "$root/allowed/good";
my $outside = "$root/outside/good";
for my $d ($good, $outside)
{
	mkdir $d or die "mkdir $d: $!";
	append_to_file("$d/001_a.sql", "CREATE TABLE sweep_a (id integer);\n");
	append_to_file("$d/001_a.down.sql", "DROP TABLE sweep_a;\n");
	append_to_file("$d/002_b.sql", "CREATE TABLE sweep_b (id integer);\n");
	append_to_file("$d/002_b.down.sql", "DROP TABLE sweep_b;\n");
}

# The files' change times (which utime cannot set) must lie 2 seconds in
# the past for the warm-up's migrate_apply to keep their fingerprints, so
# that the calls after it find the fingerprints as the warm-up left them.
# A wait for a condition on the files, not for a time.
for (;;)
{
	my $newest = 0;
	for my $file (glob("$good/*.sql $outside/*.sql"))
	{
		my @st = stat($file) or die "stat $file: $!";
		$newest = $st[9] if $st[9] > $newest;
		$newest = $st[10] if $st[10] > $newest;
	}
	last if time - $newest >= 3;
	sleep 1;
}

my $node = PostgreSQL::Test::Cluster->new('bad_arguments');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'morgenmigrate'
morgenmigrate.allowed_directories = '$root/allowed'
max_worker_processes = 16
# no autovacuum worker in the databases copied and dropped between calls
autovacuum = off
});
$node->start;
$ENV{PGCLIENTENCODING} = 'UTF8';

sub lit
{
	my ($s) = @_;
	$s =~ s/'/''/g;
	return "'$s'";
}

# The database the sweep runs in, its copy taken after the warm-up.
$node->safe_psql('postgres', 'CREATE DATABASE sweep');
$node->safe_psql('sweep', qq{
CREATE EXTENSION morgenmigrate;
CREATE SCHEMA tenant_a;
CREATE SCHEMA "we ird";
CREATE TABLE public.sweep_files (path text, content bytea);
INSERT INTO public.sweep_files VALUES
  ('001_a.sql', convert_to('CREATE TABLE sweep_a (id integer);' || chr(10), 'UTF8')),
  ('001_a.down.sql', convert_to('DROP TABLE sweep_a;' || chr(10), 'UTF8')),
  ('002_b.sql', convert_to('CREATE TABLE sweep_b (id integer);' || chr(10), 'UTF8')),
  ('002_b.down.sql', convert_to('DROP TABLE sweep_b;' || chr(10), 'UTF8'));
CREATE TABLE public.sweep_empty_files (path text, content bytea);
CREATE TABLE public.sweep_wrong (a integer, b integer);
INSERT INTO public.sweep_wrong VALUES (1, 2);
CREATE TABLE public.sweep_wrong_types (path integer, content integer);
INSERT INTO public.sweep_wrong_types VALUES (1, 2);
CREATE TABLE public.sweep_null_path (path text, content bytea);
INSERT INTO public.sweep_null_path VALUES (NULL, 'x');
CREATE TABLE public.sweep_odd_paths (path text, content bytea);
INSERT INTO public.sweep_odd_paths VALUES ('../001_x.sql', 'SELECT 1;'), ('/abs.sql', 'SELECT 1;'), ('', 'SELECT 1;');
CREATE VIEW public.sweep_view AS SELECT * FROM public.sweep_files;
CREATE SEQUENCE public.sweep_seq;
CREATE INDEX sweep_index ON public.sweep_wrong (a);
CREATE FUNCTION public.sweep_fingerprint() RETURNS text LANGUAGE plpgsql AS \$\$
DECLARE
	r record;
	part text;
	fp text := '';
BEGIN
	FOR r IN SELECT c.oid::regclass AS rel, c.relname FROM pg_class c
	          WHERE c.relnamespace = 'morgenmigrate'::regnamespace AND c.relkind IN ('r', 'p')
	          ORDER BY c.relname LOOP
		EXECUTE format('SELECT coalesce(string_agg(t::text, chr(10) ORDER BY t::text), '''') FROM %s t', r.rel)
		   INTO part;
		fp := fp || r.relname || ':' || md5(part) || chr(10);
	END LOOP;
	SELECT fp || 'relations:' || string_agg(rels.rel, ',' ORDER BY rels.rel)
	  INTO fp
	  FROM (SELECT CASE WHEN n.nspname LIKE 'pg_temp%' THEN 'pg_temp' ELSE n.nspname::text END
	               || '.' || c.relname::text || '/' || c.relkind::text AS rel
	          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
	           AND n.nspname NOT LIKE 'pg_toast_temp%') rels;
	SELECT fp || chr(10) || 'event triggers:' || coalesce(string_agg(evtname::text || '/' || evtenabled::text, ',' ORDER BY evtname), '')
	  INTO fp FROM pg_event_trigger;
	RETURN fp;
END
\$\$;
});

# The functions: name, kind, strictness, return type, input arguments
# (name, type, whether it has a default).
my $list = $node->safe_psql('sweep', q{
SELECT p.oid, p.proname, p.prokind, p.proisstrict, format_type(p.prorettype, NULL),
       p.pronargs, p.pronargdefaults,
       coalesce((SELECT string_agg(coalesce(a.n, '') || ':' || format_type(a.t, NULL), ';' ORDER BY a.o)
                   FROM unnest(coalesce(p.proallargtypes, p.proargtypes::oid[]),
                               coalesce(p.proargnames, '{}'), coalesce(p.proargmodes, '{}'))
                        WITH ORDINALITY AS a(t, n, m, o)
                  WHERE a.t IS NOT NULL AND coalesce(a.m, 'i') IN ('i', 'b', 'v')), '')
  FROM pg_proc p
 WHERE p.pronamespace = 'morgenmigrate'::regnamespace
 ORDER BY p.proname, p.oid});
my @funcs;
for my $line (split /\n/, $list)
{
	my ($oid, $name, $kind, $strict, $ret, $nargs, $ndefaults, $args) = split /\|/, $line, 8;
	my @args;
	my $i = 0;
	for my $a (split /;/, $args)
	{
		my ($an, $at) = split /:/, $a, 2;
		push @args, { name => $an, type => $at, has_default => ($i >= $nargs - $ndefaults) };
		$i++;
	}
	push @funcs, { oid => $oid, name => $name, kind => $kind, strict => $strict eq 't',
		ret => $ret, args => \@args };
}
cmp_ok(scalar @funcs, '>=', 40, 'the catalog lists the extension\'s functions (' . scalar(@funcs) . ')');

# What a successful call may change: these exist to change the history,
# the applied set or the drift capture.
# migrate_apply and migrate_run are not among them: every migration is
# applied already, in the database and in the tenant schemas named.
my %may_change = map { $_ => 1 } qw(migrate_rollback migrate_run_rollback migrate_forget
	migrate_baseline migrate_repair migrate_adopt drift_enable drift_disable
	drift_acknowledge);

my $long = '/' . ('a' x 5000);
my $unrestricted = "SET morgenmigrate.allowed_directories TO ''";

# The neutral value of an argument, by its name and type.
sub neutral
{
	my ($f, $a) = @_;
	my ($n, $t) = ($a->{name}, $a->{type});
	return lit($good) . '::text' if $n eq 'dir';
	return "'public.sweep_files'::regclass" if $t eq 'regclass';
	return "'{tenant_a}'::text[]" if $n eq 'schemas';
	return "'{sweep}'::text[]" if $n eq 'databases';
	return '2' if $n eq 'max_parallel';
	return '1' if $n eq 'steps' && $f->{name} =~ /rollback/;
	return 'false' if $n eq 'dry_run';
	return 'true' if $n eq 'atomic';
	return "'sweep'::text" if $n eq 'note';
	return "'no_such_file.sql'::text" if $n eq 'filename';
	return "NULL::$t";
}

# The bad values of an argument: [label, SQL].
sub bad_values
{
	my ($f, $a) = @_;
	my ($n, $t) = ($a->{name}, $a->{type});
	my @v = ([ 'NULL', "NULL::$t" ]);
	# a text value: [label, SQL, the value itself]
	my $tv = sub { [ $_[0], lit($_[1]) . '::text', $_[1] ] };
	if ($t eq 'text' && $n eq 'dir')
	{
		push @v, $tv->('empty', ''), $tv->('relative', 'relative/dir'),
		  $tv->('missing', "$root/allowed/missing"),
		  $tv->('regular file', "$good/001_a.sql"),
		  $tv->('too long', $long),
		  $tv->('too long, allowed', "$root/allowed$long"),
		  $tv->('long name in allowed', "$root/allowed/" . ('b' x 300)),
		  $tv->('outside allowed_directories', $outside),
		  $tv->('quotes', "$root/allowed/it's \"x\""),
		  $tv->('line break', "$root/allowed/a\nb"),
		  $tv->('root', '/');
		# the same where morgenmigrate.allowed_directories is not set
		push @v, map { [ "$_->[0], unrestricted", @$_[ 1, 2 ], $unrestricted ] }
		  ($tv->('too long', $long), $tv->('long name', "/" . ('b' x 300)),
		   $tv->('missing', "$root/missing"), $tv->('regular file', "$good/001_a.sql"));
	}
	elsif ($t eq 'text')
	{
		push @v, $tv->('empty', ''), $tv->('unknown', 'no_such_thing_999'),
		  $tv->('number-like', '-1'), $tv->('long', 'x' x 5000),
		  $tv->('quotes', "a'b\"c;"), $tv->('relative path', '../x/001_a.sql');
		push @v, $tv->('catalog table', 'pg_catalog.pg_class'),
		  $tv->('quoted name', 'public."we ird"'), $tv->('too many dots', 'a.b.c.d'),
		  $tv->('unterminated quote', '"abc')
		  if $n eq 'history_table';
	}
	elsif ($t eq 'integer')
	{
		push @v, [ '-1', '(-1)::integer' ], [ '0', '0::integer' ], [ 'max', '2147483647::integer' ],
		  [ 'min', '(-2147483648)::integer' ];
	}
	elsif ($t eq 'boolean')
	{
		push @v, [ 'true', 'true' ], [ 'false', 'false' ];
	}
	elsif ($t eq 'text[]')
	{
		my $own = $n eq 'databases' ? 'sweep' : 'tenant_a';
		push @v, [ 'empty array', "'{}'::text[]" ], [ 'only NULL', "'{NULL}'::text[]" ],
		  [ 'NULL among names', "'{$own,NULL}'::text[]" ], [ 'empty name', "'{\"\"}'::text[]" ],
		  [ 'quote in name', "ARRAY['a\"b''c']::text[]" ], [ 'unknown name', "'{no_such_999}'::text[]" ],
		  [ 'duplicate', "'{$own,$own}'::text[]" ], [ 'long name', "ARRAY[repeat('n', 200)]::text[]" ],
		  [ 'two dimensions', "'{{$own,$own},{$own,$own}}'::text[]" ],
		  [ 'lower bound 5', "'[5:5]={$own}'::text[]" ],
		  [ 'space in name', "'{\"we ird\"}'::text[]" ];
		push @v, $n eq 'databases'
		  ? ([ 'template0', "'{template0}'::text[]" ], [ 'template1 without the extension', "'{template1}'::text[]" ])
		  : ([ 'catalog schema', "'{pg_catalog}'::text[]" ], [ 'own schema', "'{morgenmigrate}'::text[]" ],
			[ 'temporary schema', "'{pg_temp}'::text[]" ]);
	}
	elsif ($t eq 'regclass')
	{
		push @v, [ 'catalog', "'pg_class'::regclass" ], [ 'oid 0', '0::oid::regclass' ],
		  [ 'missing oid', '4000000000::oid::regclass' ], [ 'view', "'public.sweep_view'::regclass" ],
		  [ 'sequence', "'public.sweep_seq'::regclass" ], [ 'index', "'public.sweep_index'::regclass" ],
		  [ 'no path column', "'public.sweep_wrong'::regclass" ],
		  [ 'wrong column types', "'public.sweep_wrong_types'::regclass" ],
		  [ 'NULL path', "'public.sweep_null_path'::regclass" ],
		  [ 'odd paths', "'public.sweep_odd_paths'::regclass" ],
		  [ 'empty table', "'public.sweep_empty_files'::regclass" ];
	}
	elsif ($t eq 'timestamp with time zone')
	{
		push @v, [ 'infinity', "'infinity'::timestamptz" ], [ '-infinity', "'-infinity'::timestamptz" ],
		  [ '1900', "'1900-01-01'::timestamptz" ];
	}
	return @v;
}

# Whether a bad value must be refused, whatever else the call is given:
# NULL for an argument without a default (but in a STRICT function), every
# bad directory, every bad table of files but the empty one, a list of
# names that is not a plain list of existing names, a negative count.
sub must_refuse
{
	my ($f, $a, $label) = @_;
	return !$f->{strict} if $label eq 'NULL' && !$a->{has_default};
	return 1 if $a->{name} eq 'dir' && $label ne 'NULL';
	return $label ne 'empty table' if $a->{type} eq 'regclass' && $label ne 'NULL';
	return 1 if $a->{type} eq 'text[]'
	  && $label =~ /^(NULL|only NULL|NULL among names|empty name|quote in name|unknown name|long name|two dimensions|catalog schema|own schema|temporary schema)$/;
	# a database without the extension, or that takes no connection, is a
	# row of migrate_status (unavailable) and an error of the others
	return $f->{name} ne 'migrate_status' if $label =~ /^template/;
	return 1 if $a->{type} eq 'integer' && $label =~ /^(-1|min)$/;
	return 1 if $a->{name} eq 'max_parallel' && $label =~ /^(0|NULL)$/;
	return 0;
}

# The SQL of a call with the given argument values.
sub call_sql
{
	my ($f, @vals) = @_;
	my @args = @{ $f->{args} };
	# by name where every argument has one: the forms over schemas and
	# over databases differ only in that name
	@vals = map { "$args[$_]{name} => $vals[$_]" } 0 .. $#vals
	  unless grep { $_->{name} eq '' } @args;
	my $call = "morgenmigrate.$f->{name}(" . join(', ', @vals) . ')';
	return "CALL $call" if $f->{kind} eq 'p';
	return "SELECT $call IS NULL AS is_null" if $f->{strict} && $f->{ret} !~ /^(record|event_trigger)$/;
	return "SELECT count(*) FROM $call" if $f->{ret} eq 'record';
	return "SELECT $call";
}

# Runs a call, then the fingerprint, in one session: the call's result
# (rc, stdout, stderr) and the fingerprint, or undef when the connection
# was lost.
sub run_case
{
	my ($sql) = @_;
	my ($out, $err);
	$node->psql('sweep', "$sql;\n\\echo ===FP===\nSELECT public.sweep_fingerprint();",
		stdout => \$out, stderr => \$err, on_error_stop => 0,
		extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	my ($res, $fp) = split /===FP===\n?/, $out // '', 2;
	return ($res, $err // '', $fp);
}

# Waits until no other session holds a lock and no background worker of
# the extension is left (a worker may still be exiting when its caller
# returns; one that never leaves fails the wait).
sub quiet
{
	return $node->poll_query_until('sweep', q{
		SELECT NOT EXISTS (SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
		                    WHERE l.pid <> pg_backend_pid() AND a.backend_type NOT IN ('autovacuum worker'))
		   AND NOT EXISTS (SELECT 1 FROM pg_stat_activity
		                    WHERE backend_type NOT IN ('client backend', 'autovacuum launcher', 'autovacuum worker',
		                          'logical replication launcher', 'background writer', 'checkpointer',
		                          'walwriter', 'startup', 'archiver', 'io worker', 'walsummarizer'))});
}

sub reset_sweep
{
	$node->safe_psql('postgres', 'DROP DATABASE sweep');
	$node->safe_psql('postgres', 'CREATE DATABASE sweep TEMPLATE sweep_template');
}

$node->safe_psql('sweep', 'SELECT public.sweep_fingerprint()');

# Warm-up: every function once with neutral arguments, so that what a
# first call records (the file fingerprints) is in place; then the copy.
$node->safe_psql('sweep', "SELECT * FROM morgenmigrate.migrate_apply(" . lit($good) . ")");
$node->safe_psql('sweep', "SELECT * FROM morgenmigrate.migrate_apply(" . lit($good) . ", '{tenant_a,\"we ird\"}'::text[])");
for my $f (@funcs)
{
	next if $f->{name} =~ /rollback|forget|drift_(enable|disable|record)/;
	my @vals = map { neutral($f, $_) } @{ $f->{args} };
	run_case(call_sql($f, @vals));
}
ok(quiet(), 'nothing left running after the warm-up');
$node->safe_psql('postgres', 'CREATE DATABASE sweep_template TEMPLATE sweep');
my $before = $node->safe_psql('sweep', 'SELECT public.sweep_fingerprint()');
like($before, qr/public\.sweep_a\/r.*public\.sweep_b\/r/s, 'the warm-up applied the set');

my ($ncases, $nerrors, $nsucceeded, $nchanged) = (0, 0, 0, 0);
my @failures;
my %sqlstates;

# One case: the call must end well, leave the database as it was unless
# it is one whose job is to change it, and leave nothing behind.
sub check_case
{
	my ($f, $label, $sql, $strict_null, $argname, $raw, $refuse) = @_;
	$ncases++;
	my ($res, $err, $fp) = run_case($sql);
	my $what = "$f->{name}($label)";
	if (!defined $fp || $fp eq '')
	{
		push @failures, "$what: connection lost: $err";
		$node->poll_query_until('postgres', 'SELECT 1') or die 'server gone';
		reset_sweep();
		return;
	}
	$fp =~ s/^\s+|\s+$//g;
	my @errors = $err =~ /^(?:psql:\S+:\d+: )?ERROR:  (\w{5}): (.*)$/mg;
	if (@errors)
	{
		$nerrors++;
		my ($state, $msg) = @errors[ 0, 1 ];
		$sqlstates{$state}++;
		push @failures, "$what: internal error $state: $msg" if $state =~ /^XX/;
		push @failures, "$what: the sweep built a call that does not resolve: $msg"
		  if $state =~ /^(42883|42725|42601)$/;
		push @failures, "$what: message not in PostgreSQL's style: $msg"
		  if $msg =~ /^[A-Z][a-z]/ || $msg =~ /\.$/;
		# a text value refused: the message says which, by the argument's
		# name or by the value itself (a table's name without its schema);
		# a fleet's summary error leaves that to its detail, and a form
		# refused whole (0A000) is about no argument
		my $last = defined $raw ? (split /\./, $raw)[-1] // '' : '';
		push @failures, "$what: message names neither the argument nor the value: $msg"
		  if defined $raw && $raw !~ /\n/ && $state ne '0A000'
		  && $msg !~ /^migrations failed in \d+ (schemas?|databases?) of \d+$/
		  && index($msg, "\"$raw\"") < 0 && index($msg, "\"$last\"") < 0
		  && index($msg, "argument \"$argname\"") < 0;
	}
	elsif ($err =~ /^(?:psql:\S+:\d+: )?(ERROR|FATAL|PANIC)/m)
	{
		push @failures, "$what: error without a SQLSTATE: $err";
	}
	else
	{
		$nsucceeded++;
		push @failures, "$what: accepted, but must be refused" if $refuse;
		push @failures, "$what: STRICT function did not return NULL: $res"
		  if $strict_null && $res !~ /^t$/m;
	}
	my %was = map { $_ => 1 } split /\n/, $before;
	note("$what: " . (@errors ? "$errors[0] $errors[1]" : 'ok')
		  . ($fp ne $before ? ', changed: ' . join(' ', grep { !$was{$_} } split /\n/, $fp) : ''));
	push @failures, "$what: left something running or locked" unless quiet();
	if ($fp ne $before)
	{
		if (!@errors && $may_change{ $f->{name} })
		{
			$nchanged++;
		}
		else
		{
			push @failures, "$what: changed the database" . (@errors ? ' and failed' : '')
			  . ": $err";
		}
		reset_sweep();
	}
}

for my $f (@funcs)
{
	my @neutral = map { neutral($f, $_) } @{ $f->{args} };
	check_case($f, 'neutral', call_sql($f, @neutral), 0);
	for my $i (0 .. $#{ $f->{args} })
	{
		my $a = $f->{args}[$i];
		for my $bad (bad_values($f, $a))
		{
			my @vals = @neutral;
			$vals[$i] = $bad->[1];
			check_case($f, "$a->{name} $bad->[0]",
				($bad->[3] ? "$bad->[3];\n" : '') . call_sql($f, @vals),
				$f->{strict} && $bad->[0] eq 'NULL', $a->{name}, $bad->[2],
				must_refuse($f, $a, $bad->[0]));
		}
	}
}

diag("$ncases calls over " . scalar(@funcs) . " functions: $nerrors refused, $nsucceeded succeeded "
	  . "($nchanged changed what they are meant to change); SQLSTATEs: "
	  . join(' ', map { "$_ x$sqlstates{$_}" } sort keys %sqlstates));
is(join("\n", @failures), '', 'every bad argument is refused properly or changes nothing');
cmp_ok($ncases, '>=', 500, 'the sweep made its calls');
cmp_ok($nerrors, '>=', $ncases / 2, 'most of them were refused');

done_testing();
