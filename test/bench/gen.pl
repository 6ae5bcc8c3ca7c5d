#!/usr/bin/perl
# Generates a deterministic set of migration files for the benchmark.
#
#   gen.pl --count N --out DIR [--seed S]
#       N ordinary migrations, 0001_xxx.sql ...: about 40% CREATE TABLE
#       (5-10 columns, a primary key, a foreign key to an earlier table),
#       30% ALTER TABLE ADD COLUMN / CREATE INDEX / ADD CONSTRAINT on earlier
#       tables, 15% plpgsql functions (dollar quoting) and views, 15% data
#       migrations (INSERT ... SELECT generate_series, UPDATE); 1-6
#       statements per file, with comments.
#   gen.pl --big --out DIR [--count 200] [--size 1048576]
#       files of about --size bytes each: a table and its seed data as
#       multi-row INSERTs (the memory measurement).
#
# The same arguments always give byte-identical files, on any machine: the
# random choices come from a fixed LCG, not from perl's rand.  The SQL runs
# unchanged under psql -1 -f, so every runner of the benchmark gets the
# same statements.
use strict;
use warnings;
use File::Path qw(make_path);
use Getopt::Long;

my ($count, $out, $big, $seed, $size) = (undef, undef, 0, 20240607, 1048576);
GetOptions(
	'count=i' => \$count,
	'out=s'   => \$out,
	'big'     => \$big,
	'seed=i'  => \$seed,
	'size=i'  => \$size)
  or die "usage: $0 --count N --out DIR [--seed S] | --big --out DIR [--count 200] [--size BYTES]\n";
die "--out DIR is required\n" unless defined $out;
$count //= $big ? 200 : undef;
die "--count N is required\n" unless defined $count && $count > 0;

make_path($out);
opendir(my $dh, $out) or die "cannot open $out: $!\n";
die "$out already holds .sql files; give an empty directory\n"
  if grep { /\.sql$/ } readdir($dh);
closedir($dh);

my $state = $seed & 0x7fffffff;

# A number in [0, n): a 31-bit LCG, high bits only.
sub rnd
{
	my ($n) = @_;
	$state = ($state * 1103515245 + 12345) & 0x7fffffff;
	return ($state >> 8) % $n;
}

# One element of a list.
sub pick { return $_[ rnd(scalar @_) ]; }

my $width = length($count) < 4 ? 4 : length($count);

# Writes one migration file.
sub write_file
{
	my ($i, $slug, $text) = @_;
	my $name = sprintf("%0*d_%s.sql", $width, $i, $slug);
	open(my $fh, '>', "$out/$name") or die "cannot write $out/$name: $!\n";
	print $fh $text;
	close($fh) or die "cannot write $out/$name: $!\n";
}

# ---------------------------------------------------------------------
# The realistic mix
# ---------------------------------------------------------------------

# Tables created so far: name => { cols => [ [name, kind], ... ], parent,
# children => [...], ncol => next column number }.
my (%tables, @order);
my (@views, @funcs);

# Column kinds: their SQL type and the expression a data migration fills
# them with (g is the generate_series value, $i the migration number).
my %kinds = (
	int    => [ 'integer',        sub { "(g % 1000 + 1)" } ],
	num    => [ 'numeric(12,2)',  sub { "round((g * 1.37)::numeric, 2)" } ],
	text   => [ 'text',           sub { "'r$_[0]-' || g" } ],
	vchar  => [ 'varchar(200)',   sub { "md5(g::text)" } ],
	bool   => [ 'boolean',        sub { "(g % 2 = 0)" } ],
	ts     => [ 'timestamptz',    sub { "now() - g * interval '1 minute'" } ],
	date   => [ 'date',           sub { "current_date - (g % 365)" } ],
	jsonb  => [ 'jsonb',          sub { "jsonb_build_object('g', g, 'm', $_[0])" } ]);
my @plain_kinds = qw(int num text vchar bool ts date jsonb);
my @words = qw(account order invoice member team project task comment event
  payment shipment product price review tag label note report session device
  webhook audit plan quota region);

sub gen_mix
{
	for my $i (1 .. $count)
	{
		my $r = rnd(100);
		my ($slug, $sql);
		if (!@order || $r < 40)
		{
			($slug, $sql) = mig_create($i);
		}
		elsif ($r < 70)
		{
			($slug, $sql) = mig_alter($i);
		}
		elsif ($r < 85)
		{
			($slug, $sql) = mig_code($i);
		}
		else
		{
			($slug, $sql) = mig_data($i);
		}
		write_file($i, $slug, $sql);
	}
}

# An earlier table, favouring recent ones as real schemas do.
sub earlier_table
{
	my $n = scalar @order;
	return $order[ rnd(2) ? $n - 1 - rnd($n < 20 ? $n : 20) : rnd($n) ];
}

# A new column name for a table.
sub new_column
{
	my ($t, $kind) = @_;
	my $c = sprintf("%s_%d", pick(qw(code amount title status score flag since
		  due meta weight rank kind)), $tables{$t}{ncol}++);
	push @{ $tables{$t}{cols} }, [ $c, $kind ];
	return $c;
}

# Columns of a table of one kind.
sub cols_of
{
	my ($t, @want) = @_;
	my %w = map { $_ => 1 } @want;
	return map { $_->[0] } grep { $w{ $_->[1] } } @{ $tables{$t}{cols} };
}

sub mig_create
{
	my ($i) = @_;
	my $t = sprintf("%s_%d", pick(@words), $i);
	my $parent = @order ? earlier_table() : undef;
	$tables{$t} = { cols => [], ncol => 1, children => [] };
	my @lines = ("    id bigserial PRIMARY KEY");
	if ($parent)
	{
		push @lines, "    ${parent}_id bigint REFERENCES $parent (id)";
		push @{ $tables{$t}{cols} }, [ "${parent}_id", 'fk' ];
		$tables{$t}{parent} = $parent;
		push @{ $tables{$parent}{children} }, $t;
	}
	my $ncols = 5 + rnd(6) - scalar(@lines);    # 5-10 columns in all
	push @lines, "    created_at timestamptz NOT NULL DEFAULT now()";
	push @{ $tables{$t}{cols} }, [ 'created_at', 'ts' ];
	$ncols--;
	if (rnd(2))
	{
		push @lines, "    updated_at timestamptz";
		push @{ $tables{$t}{cols} }, [ 'updated_at', 'ts' ];
		$tables{$t}{updated_at} = 1;
		$ncols--;
	}
	for (1 .. $ncols)
	{
		my $kind = pick(@plain_kinds);
		my $c = new_column($t, $kind);
		my $extra = '';
		$extra = " NOT NULL DEFAULT 0" if $kind eq 'int' && rnd(3) == 0;
		$extra = " NOT NULL DEFAULT false" if $kind eq 'bool' && rnd(2);
		$extra = " DEFAULT '{}'" if $kind eq 'jsonb' && rnd(2);
		push @lines, "    $c $kinds{$kind}[0]$extra";
	}
	push @order, $t;

	my $sql = "-- Migration $i: the $t table\n"
	  . ($parent ? "-- Each row belongs to a row of $parent.\n" : "")
	  . "CREATE TABLE $t (\n" . join(",\n", @lines) . "\n);\n";
	my $extra = rnd(3);
	if ($parent && $extra >= 1)
	{
		$sql .= "\n-- lookups by parent\nCREATE INDEX ${t}_${parent}_id_idx ON $t (${parent}_id);\n";
	}
	if ($extra == 2)
	{
		$sql .= "\nCOMMENT ON TABLE $t IS 'Created by migration $i; it''s generated.';\n";
	}
	return ("create_$t", $sql);
}

sub mig_alter
{
	my ($i) = @_;
	my $nstmt = 1 + rnd(6);
	my $t = earlier_table();
	my $sql = "-- Migration $i: changes to $t\n";
	my $slug = "alter_$t";
	my $s = 0;
	while ($s < $nstmt)
	{
		$s++;
		$t = earlier_table() if rnd(3) == 0;
		my $op = rnd(10);
		if ($op < 4)
		{
			my $kind = pick(@plain_kinds);
			my $c = new_column($t, $kind);
			my $default =
			    $kind eq 'int'  ? " NOT NULL DEFAULT 0"
			  : $kind eq 'bool' ? " DEFAULT true"
			  : $kind eq 'text' ? " DEFAULT ''"
			  :                   "";
			$sql .= "ALTER TABLE $t ADD COLUMN $c $kinds{$kind}[0]$default;\n";
		}
		elsif ($op < 7)
		{
			my @c = grep { $_->[1] ne 'jsonb' } @{ $tables{$t}{cols} };
			my $c = @c ? $c[ rnd(scalar @c) ][0] : 'id';
			my $name = "${t}_${c}_i$i$s";
			$sql .= "-- speeds up the report on $c\n"
			  . "CREATE INDEX $name ON $t ($c" . ($c eq 'id' ? '' : ', id') . ");\n";
		}
		elsif ($op < 8)
		{
			my @ints = cols_of($t, 'int');
			if (@ints)
			{
				my $c = $ints[ rnd(scalar @ints) ];
				$sql .= "ALTER TABLE $t ADD CONSTRAINT ${t}_${c}_ck$i$s CHECK ($c >= 0);\n";
			}
			else
			{
				my $c = new_column($t, 'int');
				$sql .= "ALTER TABLE $t ADD COLUMN $c integer NOT NULL DEFAULT 1"
				  . " CONSTRAINT ${t}_${c}_ck$i$s CHECK ($c > 0);\n";
			}
		}
		elsif ($op < 9 && $s < $nstmt)
		{
			my $c = new_column($t, 'text');
			$sql .= "ALTER TABLE $t ADD COLUMN $c text;\n"
			  . "ALTER TABLE $t ADD CONSTRAINT ${t}_${c}_key$i$s UNIQUE ($c);\n";
			$s++;    # two statements
		}
		else
		{
			my $other = earlier_table();
			my $c = "${other}_ref$i$s";
			push @{ $tables{$t}{cols} }, [ $c, 'fk' ];
			$sql .= "-- link to $other\n"
			  . "ALTER TABLE $t ADD COLUMN $c bigint,\n"
			  . "    ADD CONSTRAINT ${t}_${c}_fk FOREIGN KEY ($c) REFERENCES $other (id) ON DELETE SET NULL;\n";
		}
	}
	return ($slug, $sql);
}

sub mig_code
{
	my ($i) = @_;
	my $t = earlier_table();
	my $sql = "-- Migration $i: code for $t\n";
	my $r = rnd(3);
	if ($r == 0 || !$tables{$t}{updated_at})
	{
		my $f = "${t}_count_$i";
		my @ints = cols_of($t, 'int', 'num');
		my $cond = @ints ? "AND $ints[0] >= p_min" : "AND id >= p_min";
		$sql .= <<"SQL";
CREATE OR REPLACE FUNCTION $f(p_min integer DEFAULT 0)
RETURNS bigint
LANGUAGE plpgsql STABLE
AS \$fn\$
DECLARE
    n bigint;
BEGIN
    -- a comment inside the body; it's not SQL's business: \$\$ ; '
    SELECT count(*) INTO n FROM $t WHERE true $cond;
    IF n IS NULL THEN
        RAISE NOTICE 'no rows in %', '$t';
        RETURN 0;
    END IF;
    RETURN n;
END
\$fn\$;
SQL
		push @funcs, $f;
		if (rnd(2))
		{
			$sql .= "\nCOMMENT ON FUNCTION $f(integer) IS \$\$Counts rows of $t; see migration $i.\$\$;\n";
		}
	}
	else
	{
		my $f = "${t}_touch_$i";
		$sql .= <<"SQL";
CREATE FUNCTION $f() RETURNS trigger
LANGUAGE plpgsql AS \$\$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
\$\$;

CREATE TRIGGER ${t}_touch_trg_$i BEFORE UPDATE ON $t
    FOR EACH ROW EXECUTE FUNCTION $f();
SQL
		$tables{$t}{updated_at} = 0;    # one trigger per table
		push @funcs, $f;
	}
	if ($r != 1)
	{
		my $v = "${t}_v$i";
		my @children = @{ $tables{$t}{children} };
		my @show = grep { $_ ne 'created_at' } cols_of($t, @plain_kinds);
		my $col = @show ? "p.$show[0], " : '';
		my $grp = @show ? ", p.$show[0]" : '';
		if (@children)
		{
			my $c = $children[ rnd(scalar @children) ];
			$sql .= "\n-- per-$t totals\nCREATE VIEW $v AS\n"
			  . "SELECT p.id, ${col}count(c.id) AS n_$c\n"
			  . "FROM $t p LEFT JOIN $c c ON c.${t}_id = p.id\n"
			  . "GROUP BY p.id$grp;\n";
		}
		else
		{
			$sql .= "\nCREATE VIEW $v AS\nSELECT p.id, ${col}p.created_at\n"
			  . "FROM $t p WHERE p.created_at > now() - interval '30 days';\n";
		}
		push @views, $v;
	}
	return ("code_$t", $sql);
}

sub mig_data
{
	my ($i) = @_;
	my $t = earlier_table();
	my $rows = 100 * (2 + rnd(7));    # 200-800 rows
	my (@cols, @vals);
	for my $col (@{ $tables{$t}{cols} })
	{
		my ($c, $kind) = @$col;
		next if $c eq 'created_at';
		next if $kind eq 'text' && $c =~ /_\d+$/ && rnd(4) == 0;
		if ($kind eq 'fk')
		{
			next if rnd(2);
			my ($other) = $c =~ /^(.*)_(?:id|ref\d+)$/;
			push @cols, $c;
			push @vals, "(SELECT max(id) FROM $other)";
			next;
		}
		push @cols, $c;
		push @vals, $kinds{$kind}[1]->($i);
	}
	my $sql = "-- Migration $i: data for $t ($rows rows)\n";
	if (@cols)
	{
		$sql .= "INSERT INTO $t (" . join(', ', @cols) . ")\n"
		  . "SELECT " . join(",\n       ", @vals) . "\n"
		  . "FROM generate_series(1, $rows) AS g;\n";
	}
	else
	{
		$sql .= "INSERT INTO $t (created_at)\n"
		  . "SELECT now() - g * interval '1 second' FROM generate_series(1, $rows) AS g;\n";
	}
	my @set = grep { $_->[1] eq 'num' || $_->[1] eq 'bool' || $_->[1] eq 'ts' }
	  @{ $tables{$t}{cols} };
	if (@set)
	{
		my ($c, $kind) = @{ $set[ rnd(scalar @set) ] };
		my $expr = $kind eq 'num' ? "coalesce($c, 0) + 1" : $kind eq 'bool' ? "NOT coalesce($c, false)" : "now()";
		$sql .= "\n-- backfill\nUPDATE $t SET $c = $expr WHERE id % 3 = 0;\n";
	}
	if (rnd(3) == 0)
	{
		$sql .= "\nUPDATE $t SET created_at = created_at - interval '1 day' WHERE id % 7 = 0;\n";
	}
	return ("data_$t", $sql);
}

# ---------------------------------------------------------------------
# Big files: a table and its seed data, about $size bytes each
# ---------------------------------------------------------------------
sub gen_big
{
	for my $i (1 .. $count)
	{
		my $t = "bulk_$i";
		my $sql = "-- Migration $i: seed data for $t, about $size bytes\n"
		  . "CREATE TABLE $t (\n    id integer PRIMARY KEY,\n    name text NOT NULL,\n"
		  . "    qty integer NOT NULL,\n    price numeric(12,2),\n    note text\n);\n";
		my $id = 0;
		while (length($sql) < $size)
		{
			$sql .= "\n-- rows from " . ($id + 1) . "\nINSERT INTO $t (id, name, qty, price, note) VALUES\n";
			my @rows;
			for (1 .. 100)
			{
				$id++;
				push @rows, sprintf("    (%d, 'item %d of %s', %d, %d.%02d, 'note %06x%06x%06x')",
					$id, $id, $t, rnd(1000), rnd(10000), rnd(100),
					rnd(1 << 23), rnd(1 << 23), rnd(1 << 23));
			}
			$sql .= join(",\n", @rows) . ";\n";
		}
		write_file($i, "seed_$t", $sql);
	}
}

if ($big)
{
	gen_big();
}
else
{
	gen_mix();
}
exit 0;
