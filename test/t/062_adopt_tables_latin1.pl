# Every test of 060_adopt_tables.pl again, in databases whose encoding is
# LATIN1: the names and texts of migrations are converted from UTF-8, and
# another runner's checksums (Flyway's CRC-32 of the UTF-8 text) still match.
use strict;
use warnings;

use FindBin;
# loaded now: their INIT blocks must run before the test does
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

$ENV{MM_ADOPT_ENCODING} = 'LATIN1';
do "$FindBin::Bin/060_adopt_tables.pl" or die($@ || "060_adopt_tables.pl: $!");
