# morgenmigrate: PGXS build, install and tests

EXTENSION = morgenmigrate
# the version lives in morgenmigrate.control alone
EXTVERSION = $(shell sed -n "s/^default_version = '\\(.*\\)'/\\1/p" morgenmigrate.control)
MODULE_big = morgenmigrate
# every .c file of src/ and src/layouts/: a new module needs no edit here
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c src/layouts/*.c)))
DATA = $(wildcard morgenmigrate--*.sql)
PGFILEDESC = "morgenmigrate - apply schema migrations inside the server"

# pg_regress tests: every sql/*.sql, against fixtures staged where the
# server's OS user can read them (see test/stage-fixtures.sh)
REGRESS = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_PREP = fixtures

# isolation specs: test/isolation/specs/*.spec
ISOLATION = $(patsubst test/isolation/specs/%.spec,%,$(sort $(wildcard test/isolation/specs/*.spec)))
ISOLATION_OPTS = --inputdir=test/isolation

# TAP tests: test/t/*.pl
TAP_TESTS = 1
PROVE_TESTS = test/t/*.pl

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

$(OBJS): $(wildcard src/*.h src/layouts/*.h)

# the source archive PGXN takes: morgenmigrate-VERSION.zip of the committed
# tree (HEAD), every file under one top directory
DISTNAME = $(EXTENSION)-$(EXTVERSION)
.PHONY: dist
dist:
	git archive --format zip --prefix=$(DISTNAME)/ -o $(DISTNAME).zip HEAD

.PHONY: fixtures
fixtures:
	test/stage-fixtures.sh
