# Migration directories for the differential test (test/t/110_differential.pl),
# generated from a seed, for one runner (dbmate, node-pg-migrate, postgrator
# or sql-migrate).
#
# A directory is a few migrations named and written as the runner's users
# write them, plus a few quirks (none to three, listed in the directory's
# description, so that a difference points at its cause): names with
# leading zeros, equal numeric prefixes, prefixes of different lengths,
# names without digits, other cases, Unicode, every extension the runner
# knows, files and subdirectories it skips, symbolic links to a directory
# (named as a migration or not), postgrator's JavaScript undo files and
# versions beyond 2^53; contents with the runner's
# markers spelt otherwise, other runners' markers in comments and string
# literals, comment lines such as "-- Up migration: create users", a
# byte-order mark, CRLF line ends, no final newline or semicolon, empty
# sections, down-only files and other shapes, the runner's no-transaction
# markers, function bodies and literals that span lines, a lone carriage
# return on dbmate's marker lines, words of about 64 kB (sql-migrate's
# buffer for the words of a line), and statements that fail.
#
# Every statement a migration runs leaves a trace: it inserts a row (its
# file's token and its part, such as "f3", "u2") into the table diff_log,
# or creates an object named after them, so that comparing two databases
# shows which parts of which files ran, and in what order.
#
#   my $dir = DifferentialGen::generate('dbmate', $seed);
#   # $dir->{entries}: [ { path => 'sub/x.sql', bytes => ... },
#   #   { path => 'lib', link => '.' } (a symbolic link), ... ]
#   # $dir->{dirs}: [ 'sub', ... ] (created before the files)
#   # $dir->{quirks}: [ 'bom', ... ]
package DifferentialGen;

use strict;
use warnings;

use Encode qw(encode_utf8);

# xorshift32: the same numbers on every machine and perl.
sub new_rand
{
	my ($seed) = @_;
	my $self = bless { s => ($seed & 0xffffffff) || 0x9e3779b9 }, 'DifferentialGen::Rand';
	$self->below(2) for 1 .. 8;
	return $self;
}

package DifferentialGen::Rand;

# The next number, 1 .. 2^32-1.
sub next32
{
	my ($self) = @_;
	my $x = $self->{s};
	$x ^= ($x << 13) & 0xffffffff;
	$x ^= $x >> 17;
	$x ^= ($x << 5) & 0xffffffff;
	return $self->{s} = $x;
}

# A number 0 .. N-1.
sub below { my ($self, $n) = @_; return $self->next32 % $n }

# True with probability P.
sub chance { my ($self, $p) = @_; return $self->next32 / 4294967296 < $p }

# One of the values.
sub pick { my $self = shift; return $_[ $self->below(scalar @_) ] }

# One of the values of a list of (weight => value) pairs.
sub weighted
{
	my ($self, @pairs) = @_;
	my $total = 0;
	$total += $pairs[ 2 * $_ ] for 0 .. $#pairs / 2;
	my $n = $self->below($total);
	for (my $i = 0; $i < @pairs; $i += 2)
	{
		return $pairs[ $i + 1 ] if ($n -= $pairs[$i]) < 0;
	}
	die 'weighted: no weights';
}

package DifferentialGen;

# The seed of directory N of a runner: each directory can be made again
# alone (MM_DIFF_START=N MM_DIFF_COUNT=1).
sub directory_seed
{
	my ($seed, $runner, $n) = @_;
	my $h = 2166136261 ^ ($seed & 0xffffffff);
	for my $c (map { ord } split //, "$runner/$n")
	{
		$h = (($h ^ $c) * 16777619) & 0xffffffff;    # FNV-1a
	}
	return $h;
}

# The quirks a directory may have, per runner (all have the others).
my @quirks = qw(leading_zeros equal_prefixes mixed_lengths no_digits case unicode
  separators other_extensions ignored_files subdirectory
  marker_spellings literal_markers comment_markers bom crlf no_final_newline
  no_final_semicolon empty_sections shapes failing function_bodies
  literal_semicolon literal_comment one_line_statements dir_links);
my %runner_quirks = (
	dbmate => [qw(no_transaction down_up_names lone_cr)],
	'node-pg-migrate' => [qw(scripts down_up_names)],
	postgrator => [qw(scripts zero_version odd_versions quote_in_name script_undo big_versions)],
	'sql-migrate' => [qw(no_transaction down_up_names huge_prefix long_words)],
);

# Quirks that show most together: a failure in a section that runs
# outside a transaction, line ends inside a function body, names that
# differ only in case after the same prefix.
my %companions = (no_transaction => 'failing', crlf => 'function_bodies', equal_prefixes => 'case');

# Marker lines of every runner and their near misses: what a runner reads
# as a marker, and what looks like one to a careless reader.
my @marker_lines = (
	'-- migrate:up', '-- migrate:down', '--migrate:down', ' -- migrate:down',
	'-- migrate:up transaction:false',
	'-- Up Migration', '-- Down Migration', '-- up migration: create users',
	'  -- Down migration (drop users)', '--- down migration ---',
	'-- +migrate Up', '-- +migrate Down', '-- +migrate StatementBegin', '-- +migrate down',
	'-- +goose Up', '-- +goose Down');

# Comment lines that look like markers.
my @comments = (
	'-- Up migration: create users', '-- down migration is below', '-- +migrate Down',
	'-- migrate:down', '-- +goose Down', '-- Down Migration', '--- Up Migration ---');

# Plain comment lines.
my @plain_comments = ('-- note: kept as is', '--no space after the dashes', '-- TODO: backfill later');

# Words of descriptions; with the quirks, other cases and Unicode.
my @words = ('users', 'add_teams', 'members', 'backfill', 'index-things', 'a', 'b', 'x y');
my @case_words = ('Users', 'USERS', 'A', 'B', 'Backfill', 'SEED');
my @unicode_words = ("donn\x{e9}es", "\x{f1}and\x{fa}", "\x{65e5}\x{672c}", "\x{dc}ber", "\x{e9}t\x{e9}");

# A generator for one directory: its random numbers and its quirks.
sub new_gen
{
	my ($runner, $seed) = @_;
	my $r = new_rand($seed);
	my @mine = (@quirks, @{ $runner_quirks{$runner} });
	my %q;
	my $k = $r->weighted(20 => 0, 40 => 1, 30 => 2, 10 => 3);
	$q{ $r->pick(@mine) } = 1 for 1 .. $k;
	for my $q (sort keys %q)
	{
		$q{ $companions{$q} } = 1 if $companions{$q} && $r->chance(0.5);
	}
	return bless { r => $r, runner => $runner, q => \%q, used => [] }, 'DifferentialGen';
}

# True with probability P if the directory has quirk Q.
sub quirk { my ($g, $q, $p) = @_; return $g->{q}{$q} && $g->{r}->chance($p // 0.5) }

# A statement that inserts the trace of part PART of file TOK.
sub trace { my ($tok, $part) = @_; return "INSERT INTO diff_log (file, part) VALUES ('$tok', '$part');" }

# One item of a section: what part PART of file TOK runs ("up") and, for
# the down section of the same file, what undoes it ("undo", or undef).
# NOTX: the section runs outside a transaction (where a CREATE INDEX
# CONCURRENTLY may appear).
sub item
{
	my ($g, $tok, $part, $notx) = @_;
	my $r = $g->{r};
	my $t = trace($tok, $part);
	return { up => "INSERT INTO diff_log (file, part) VALUES ('$tok', '$part\n" . $r->pick(@marker_lines) . "\nend');" }
	  if $g->quirk('literal_markers', 0.4);
	return { up => "/*\n" . $r->pick(@marker_lines) . "\n*/\n$t" } if $g->quirk('literal_markers', 0.2);
	return { up => $r->pick(@comments) . "\n$t" } if $g->quirk('comment_markers', 0.5);
	return { up => "INSERT INTO diff_log (file, part) VALUES ('$tok', '$part;\nend');" }
	  if $g->quirk('literal_semicolon', 0.5);
	return { up => "INSERT INTO diff_log (file, part) VALUES ('$tok', '$part\n-- inside a literal\nend');" }
	  if $g->quirk('literal_comment', 0.5);
	if ($g->quirk('function_bodies', 0.6))
	{
		my $f = "CREATE FUNCTION ${tok}_$part() RETURNS text LANGUAGE plpgsql AS \$\$\nBEGIN\n"
		  . "  -- returns its part\n  RETURN '$part';\nEND\n\$\$;";
		# sql-migrate needs a statement block around semicolons inside a
		# statement; a file without one is what it must refuse or cut
		$f = "-- +migrate StatementBegin\n$f\n-- +migrate StatementEnd"
		  if $g->{runner} eq 'sql-migrate' && $r->chance(0.6);
		return { up => $f, undo => "DROP FUNCTION ${tok}_$part();" };
	}
	if ($g->quirk('long_words', 0.5))
	{
		# a word about as long as sql-migrate's 64 kB buffer for the words
		# of a line: one that does not fit hides the semicolon after it
		my $x = 'x' x (65520 + $r->below(24));
		return $r->pick(
			{ up => "INSERT INTO diff_log (file, part) VALUES ('$tok', '$part' || left('$x', 0));" },
			{ up => "INSERT INTO diff_log (file, part) VALUES ('$tok', left('$part$x', " . length($part) . '));' });
	}
	if ($g->quirk('one_line_statements', 0.6))
	{
		return $r->pick(
			{ up => "DO \$\$ BEGIN INSERT INTO diff_log (file, part) VALUES ('$tok', '$part'); END \$\$;" },
			{ up => trace($tok, "${part}a") . ' ' . trace($tok, "${part}b") });
	}
	if ($notx && $r->chance(0.4))
	{
		return {
			up => "CREATE INDEX CONCURRENTLY ${tok}_$part ON diff_log (part);",
			undo => "DROP INDEX CONCURRENTLY ${tok}_$part;" };
	}
	my $kind = $r->weighted(50 => 'trace', 25 => 'table', 10 => 'multiline', 5 => 'literal_lines', 10 => 'comment');
	return { up => "CREATE TABLE ${tok}_$part (id int);\n$t", undo => "DROP TABLE ${tok}_$part;" }
	  if $kind eq 'table';
	return { up => "INSERT INTO diff_log (file, part)\n    VALUES ('$tok', '$part');" } if $kind eq 'multiline';
	return { up => "INSERT INTO diff_log (file, part) VALUES ('$tok', '$part\nend');" } if $kind eq 'literal_lines';
	return { up => $r->pick(@plain_comments) . "\n$t" } if $kind eq 'comment';
	return { up => $t };
}

# A statement that fails at run time (never one the preflight of
# morgenmigrate can see): its message names file TOK.
sub failing
{
	my ($g, $tok, $part) = @_;
	return $g->{r}->pick(
		"INSERT INTO ${tok}_missing_$part VALUES (1);",    # 42P01
		"SELECT '$tok$part'::int;",                       # 22P02
		"SELECT 1 / (SELECT count(*) FROM diff_log WHERE file = '$tok$part')::int;");    # 22012
}

# The up and down sections of file TOK: their texts (without markers).
# NOTX_UP, NOTX_DOWN: the sections run outside a transaction.
sub sections
{
	my ($g, $tok, $notx_up, $notx_down) = @_;
	my $r = $g->{r};
	my $n = $g->quirk('empty_sections', 0.5) ? 0 : $r->weighted(45 => 1, 40 => 2, 15 => 3);
	my (@up, @undo);
	for my $i (1 .. $n)
	{
		my $it = $g->item($tok, "u$i", $notx_up);
		push @up, $it->{up};
		unshift @undo, $it->{undo} if defined $it->{undo};
	}
	splice @up, $r->below(@up + 1), 0, $g->failing($tok, 'uf') if $g->quirk('failing', 0.4);
	my @down = $g->quirk('empty_sections', 0.5) ? @undo : (trace($tok, 'd1'), @undo);
	splice @down, $r->below(@down + 1), 0, $g->failing($tok, 'df') if $g->quirk('failing', 0.2);
	my ($up, $down) = (join("\n", @up), join("\n", @down));
	# a last statement without its semicolon
	$up =~ s/;\z// if $g->quirk('no_final_semicolon', 0.5);
	$down =~ s/;\z// if $g->quirk('no_final_semicolon', 0.3);
	return ($up, $down);
}

# Lines before a runner's first marker.
sub header
{
	my ($g) = @_;
	my $r = $g->{r};
	return '' unless $r->chance(0.15);
	return $r->pick('-- written by hand', "-- two lines\n-- of comments", "\n", '/* a block comment */') . "\n";
}

# A section followed by a newline, or nothing for an empty one.
sub body { my ($text) = @_; return length($text) ? "$text\n" : '' }

# The file made of a shape: normal (up, then down), or another.
sub shaped
{
	my ($g, $shape, $h, $um, $up, $dm, $down, $tok) = @_;
	return $h . "$um\n" . body($up) . "$dm\n" . body($down) if $shape eq 'normal';
	return $h . "$um\n" . body($up) if $shape eq 'up_only';
	return $h . "$dm\n" . body($down) . "$um\n" . body($up) if $shape eq 'down_first';
	return $h . "$dm\n" . body($down) if $shape eq 'down_only';
	return $h . body($up) if $shape eq 'no_markers';
	return trace($tok, 'pre') . "\n$um\n" . body($up) . "$dm\n" . body($down) if $shape eq 'sql_before';
	return $h . "$um\n" . body($up) . "$dm\n" . body($down) . "$um\n" . trace($tok, 'u9') . "\n$dm\n"
	  . trace($tok, 'd9') . "\n"
	  if $shape eq 'two_pairs';
	return $h . "$um\n" . body($up) . "-- Up migration: and one more thing\n" . trace($tok, 'u8') . "\n$dm\n"
	  . body($down)
	  if $shape eq 'second_up';
	return $h . "$um\n" . body($up) . "-- +migrate down\n" . body($down) if $shape eq 'unknown_command';
	return '' if $shape eq 'empty';
	die "shaped: $shape";
}

# How each runner that marks sections inside its files writes its
# markers: the up and down marker, their other spellings (some of them
# markers to the runner, some not), the option that runs a section
# outside a transaction (none for node-pg-migrate), and the other shapes
# of a file.
my %markers = (
	dbmate => {
		up => '-- migrate:up',
		down => '-- migrate:down',
		up_spellings => [ '--migrate:up', '--   migrate:up', ' -- migrate:up', '-- Migrate:Up', '-- migrate:up  ',
			"-- migrate:up\tcomment", '-- migrate:upgrade' ],
		down_spellings =>
		  [ '--migrate:down', ' -- migrate:down', '-- migrate:down   ', '-- Migrate:down', '-- migrate: down' ],
		up_notx => [ 'transaction:false', 'transaction:false foo:bar', 'transaction:FALSE' ],
		down_notx => ['transaction:false'],
		shapes => [qw(up_only down_first sql_before two_pairs down_only no_markers empty)],
	},
	'node-pg-migrate' => {
		up => '-- Up Migration',
		down => '-- Down Migration',
		up_spellings => [ '-- up migration', '--- Up Migration ---', '  -- Up Migration',
			'-- Up migration: create things', '--Up Migration', '-- UP MIGRATION', "-- Up\tMigration",
			'-- Upmigration', "--\n-- Up Migration" ],
		down_spellings => [ '-- down migration', '--- Down Migration ---', '-- Down migration: drop things',
			'--Down Migration', '-- Down Migrations' ],
		shapes => [qw(up_only no_markers down_first down_only second_up empty)],
	},
	'sql-migrate' => {
		up => '-- +migrate Up',
		down => '-- +migrate Down',
		up_spellings => [ '--  +migrate Up', '-- +migrate  Up', '-- +migrate Up ', '-- +Migrate Up', '-- +migrate up' ],
		down_spellings => [ '-- +migrate  Down', '-- +migrate Down ', '-- +migrate Down -- the way back' ],
		up_notx => ['notransaction'],
		down_notx => ['notransaction'],
		shapes => [qw(up_only down_first down_only no_markers unknown_command sql_before empty)],
	},
);

# The text of a migration of a runner that marks its sections (dbmate,
# node-pg-migrate, sql-migrate).
sub marked_text
{
	my ($g, $tok) = @_;
	my $r = $g->{r};
	my $m = $markers{ $g->{runner} };
	my $notx_up = $m->{up_notx} && $g->quirk('no_transaction', 0.5);
	my $notx_down = $m->{down_notx} && $g->quirk('no_transaction', 0.3);
	my ($up, $down) = $g->sections($tok, $notx_up, $notx_down);
	my $um = $g->quirk('marker_spellings', 0.5) ? $r->pick(@{ $m->{up_spellings} }) : $m->{up};
	my $dm = $g->quirk('marker_spellings', 0.5) ? $r->pick(@{ $m->{down_spellings} }) : $m->{down};
	$um .= ' ' . $r->pick(@{ $m->{up_notx} }) if $notx_up;
	$dm .= ' ' . $r->pick(@{ $m->{down_notx} }) if $notx_down;
	# dbmate ends a marker's line at LF alone: what follows a lone carriage
	# return on it runs with the section, where the server's comment ends
	$um .= "\r" . trace($tok, 'ucr') if $g->quirk('lone_cr', 0.5);
	$dm .= "\r" . trace($tok, 'dcr') if $g->quirk('lone_cr', 0.4);
	$um =~ s/migrate:up/migrate:u\rp/ if $g->quirk('lone_cr', 0.15);
	my $shape = $g->quirk('shapes', 0.6) ? $r->pick(@{ $m->{shapes} }) : 'normal';
	return $g->shaped($shape, $g->header, $um, $up, $dm, $down, $tok);
}

# A postgrator migration's text: its up or down section, with comments
# that other runners read as markers now and then.
sub postgrator_text
{
	my ($g, $text) = @_;
	if ($g->quirk('comment_markers', 0.5))
	{
		my @lines = split /\n/, $text, -1;
		splice @lines, $g->{r}->below(@lines + 1), 0, $g->{r}->pick(@marker_lines, @comments);
		$text = join "\n", @lines;
	}
	return $g->header . body($text);
}

# A JavaScript (or TypeScript) migration of node-pg-migrate or postgrator.
sub script_text
{
	my ($runner, $ext, $tok, $dir) = @_;
	my ($up, $down) = (trace($tok, 'u1'), trace($tok, 'd1'));
	if ($runner eq 'postgrator')
	{
		# (an undo file's generateSql() gives its down part)
		$up = $down if ($dir // 'up') eq 'down';
		return $ext eq '.mjs'
		  ? "export function generateSql() {\n  return \"$up\";\n}\n"
		  : "module.exports.generateSql = () => \"$up\";\n";
	}
	return "exports.up = (pgm) => { pgm.sql(\"$up\"); };\nexports.down = (pgm) => { pgm.sql(\"$down\"); };\n"
	  if $ext eq '.js' || $ext eq '.cjs';
	my $type = $ext eq '.mjs' ? '' : ': any';
	return "export const up = (pgm$type) => { pgm.sql(\"$up\"); };\n"
	  . "export const down = (pgm$type) => { pgm.sql(\"$down\"); };\n";
}

# What the whole file looks like on disk: a byte-order mark, CRLF line
# ends, no final newline.
sub dress
{
	my ($g, $text) = @_;
	$text = "\x{feff}$text" if $g->quirk('bom');
	$text =~ s/\n/\r\n/g if $g->quirk('crlf', 0.6);
	$text =~ s/\r?\n\z// if $g->quirk('no_final_newline', 0.6);
	return $text;
}

# The numeric prefix of a new migration, as the runner's users write it
# (and, with the quirks, otherwise).
sub prefix
{
	my ($g) = @_;
	my $r = $g->{r};
	my $used = $g->{used};
	return '' if $g->quirk('no_digits', 0.4);
	return $r->pick(@$used) if @$used && $g->quirk('equal_prefixes', 0.5);
	return '9' . ('0' x 19) . $r->below(10) if $g->quirk('huge_prefix', 0.4);
	return '0' x (1 + $r->below(3)) if $g->quirk('zero_version', 0.4);
	my $n = @$used + 1;
	my $kind = $g->{q}{mixed_lengths} ? $r->pick(qw(small date8 ts14 utc17 ms13)) : $g->{style};
	$kind = 'padded' if $g->quirk('leading_zeros', 0.6);
	return 1 + $r->below(12) if $kind eq 'small';
	return sprintf($r->pick('%03d', '%04d', '%02d'), 1 + $r->below(12)) if $kind eq 'padded';
	my $date = sprintf('202401%02d', $n);
	return $date if $kind eq 'date8';
	my $time = sprintf('%02d%02d%02d', $r->below(2) * 12, $r->below(2) * 30, $r->below(3));
	return "$date$time" if $kind eq 'ts14';
	return "$date$time" . sprintf('%03d', $r->below(3) * 500) if $kind eq 'utc17';
	return 1700000000000 + $n * 1000 + $r->below(2) if $kind eq 'ms13';
	die "prefix: $kind";
}

# A description: one or two words.
sub words
{
	my ($g) = @_;
	my $r = $g->{r};
	my @w = (@words, ($g->{q}{case} ? @case_words : ()), ($g->{q}{unicode} ? @unicode_words : ()));
	my $w = $r->pick(@w);
	$w .= '_' . $r->pick(@w) if $r->chance(0.3);
	return $w;
}

# How each runner's users number their migrations, and the extensions the
# runner knows besides .sql.
my %style = (
	dbmate => { prefixes => [qw(ts14 small)], scripts => [] },
	'node-pg-migrate' => { prefixes => [qw(ms13 utc17)], scripts => [qw(.js .cjs .mjs .ts .mts .cts)] },
	postgrator => { prefixes => [qw(small padded)], scripts => [qw(.js .cjs .mjs)] },
	'sql-migrate' => { prefixes => [qw(small ts14)], scripts => [] },
);

# The extension of a new migration file.
sub extension
{
	my ($g) = @_;
	my $r = $g->{r};
	return $r->pick(@{ $style{ $g->{runner} }{scripts} }) if $g->quirk('scripts', 0.4);
	return $r->pick('.down.sql', '.up.sql') if $g->quirk('down_up_names', 0.4);
	return $r->pick('.SQL', '.Sql', '.sql.bak', '.txt', '.sql~') if $g->quirk('other_extensions', 0.3);
	return '.sql';
}

# A flat runner's file name (dbmate, node-pg-migrate, sql-migrate).
sub flat_name
{
	my ($g, $ext) = @_;
	my $p = $g->prefix;
	return $g->words . $ext unless length $p;
	push @{ $g->{used} }, $p;
	my $sep = $g->quirk('separators', 0.5) ? $g->{r}->pick('-', '', '.') : '_';
	return $p . $ext if $g->quirk('separators', 0.2);
	return $p . $sep . $g->words . $ext;
}

# A postgrator migration's version and name.
sub postgrator_name
{
	my ($g) = @_;
	my $r = $g->{r};
	my $v = $g->prefix;
	# (postgrator skips a name whose version is not a number)
	$v = $g->words unless length $v;
	push @{ $g->{used} }, $v;
	$v = $r->pick('1e1', '0x0C', '+7', ' 8', '5.0') if $g->quirk('odd_versions', 0.4);
	# beyond 2^53: JavaScript's numbers lose digits, or keep them
	$v = $r->pick('9007199254740993', '9007199254740992', '20240101120000001', '20240101120000000',
		'1152921504606846976', '18446744073709551616')
	  if $g->quirk('big_versions', 0.6);
	my $name = $r->chance(0.1) ? '' : '.' . $g->words;
	$name = ".it's" if $g->quirk('quote_in_name', 0.5);
	$name .= '.extra' if $g->quirk('odd_versions', 0.2);
	my $action = $g->quirk('case', 0.2) ? 'DO' : 'do';
	return ($v, $action, $name);
}

# A migration directory for RUNNER from SEED.
sub generate
{
	my ($runner, $seed) = @_;
	my $g = new_gen($runner, $seed);
	my $r = $g->{r};
	$g->{style} = $r->pick(@{ $style{$runner}{prefixes} });
	my (@entries, @dirs, %taken);
	my $add = sub {
		my ($path, $text) = @_;
		return if $taken{$path}++;
		push @entries, { path => encode_utf8($path), bytes => encode_utf8($text) };
	};
	my $n = $r->weighted(15 => 1, 30 => 2, 30 => 3, 15 => 4, 10 => 5);
	for my $i (1 .. $n)
	{
		my $tok = "f$i";
		my $ext = $g->extension;
		if ($runner eq 'postgrator')
		{
			my ($v, $action, $name) = $g->postgrator_name;
			$ext = '.sql' if $ext =~ /^\.(?:down|up)\.sql$/;
			my ($up, $down) = $g->sections($tok, 0, 0);
			if ($ext =~ /^\.[cm]?js$/)
			{
				$add->("$v.$action$name$ext", script_text($runner, $ext, $tok));
			}
			else
			{
				$add->("$v.$action$name$ext", $g->dress($g->postgrator_text($up)));
			}
			# its undo file: SQL, or JavaScript (which only postgrator runs)
			my $uext = $g->quirk('script_undo', 0.6) ? $r->pick('.js', '.cjs', '.mjs') : '.sql';
			if ($uext ne '.sql')
			{
				$add->("$v.undo$name$uext", script_text($runner, $uext, $tok, 'down'));
			}
			elsif ($r->chance($ext =~ /^\.[cm]?js$/ ? 0.3 : 0.8))
			{
				$add->("$v.undo$name$uext", $g->dress($g->postgrator_text($down)));
			}
			# and another undo file of its version now and then
			$add->("$v.undo$name" . $r->pick('.sql', '.js'), script_text($runner, '.js', $tok, 'down'))
			  if $g->quirk('script_undo', 0.1);
			next;
		}
		my $name = $g->flat_name($ext);
		if ($ext =~ /^\.[cm]?[jt]s$/)
		{
			$add->($name, script_text($runner, $ext, $tok));
			next;
		}
		$add->($name, $g->dress($g->marked_text($tok)));
	}

	# what else a migration directory holds
	if ($g->{q}{ignored_files})
	{
		$add->('README.md', "# Migrations\n\nApplied in order.\n") if $r->chance(0.5);
		$add->('.gitkeep', '') if $r->chance(0.4);
		$add->('notes.txt', "to do\n") if $r->chance(0.3);
		$add->($r->pick('seed.sql', 'schema.sql'), trace('s0', 'u1') . "\n") if $r->chance(0.4);
	}
	if ($g->{q}{subdirectory})
	{
		my $d = $r->pick('archive', 'old', '.hidden', '9_data');
		push @dirs, $d;
		my $name = $d eq '9_data' ? 'up.sql' : $runner eq 'postgrator' ? '1.do.old.sql' : '1_old.sql';
		$add->("$d/$name", trace('s1', 'u1') . "\n");
	}
	if ($g->{q}{dir_links})
	{
		# a symbolic link to a directory (the directory itself), named as a
		# migration or not
		my $name =
		    $r->chance(0.3) ? $r->pick('shared', 'lib', '.linked')
		  : $runner eq 'postgrator' ? $r->pick('0099.do.linked.sql', '0099.undo.linked.sql', 'lib.mjs')
		  : $r->pick('99_linked.sql', '.99_linked.sql', '99_linked.down.sql');
		push @entries, { path => $name, link => '.' } unless $taken{$name}++;
	}
	return { entries => \@entries, dirs => \@dirs, quirks => [ sort keys %{ $g->{q} } ] };
}

1;
