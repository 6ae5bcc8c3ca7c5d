# morgenmigrate: PGXS build, install and tests

EXTENSION = morgenmigrate
MODULE_big = morgenmigrate
OBJS = src/morgenmigrate.o src/commands.o src/source.o src/layout.o src/script.o \
	src/plan.o src/runner.o src/history.o src/adopt.o src/worker.o \
	$(patsubst %.c,%.o,$(wildcard src/layouts/*.c))
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

$(OBJS): src/morgenmigrate.h src/commands.h src/layout.h src/adopt.h

.PHONY: fixtures
fixtures:
	test/stage-fixtures.sh
