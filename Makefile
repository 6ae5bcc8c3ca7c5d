# morgenmigrate: PGXS build, install and tests

EXTENSION = morgenmigrate
# the version lives in morgenmigrate.control alone
EXTVERSION = $(shell sed -n "s/^default_version = '\\(.*\\)'/\\1/p" morgenmigrate.control)
MODULE_big = morgenmigrate
# every .c file of src/ and src/layouts/: a new module needs no edit here
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c src/layouts/*.c)))
DATA = $(wildcard morgenmigrate--*.sql)
# the client that pushes a directory of the client machine over psql,
# installed into PostgreSQL's bindir
SCRIPTS = bin/morgenmigrate-push
PGFILEDESC = "morgenmigrate - apply schema migrations inside the server"

# pg_regress tests: every sql/*.sql, in a UTF8 database with the C locale
# whatever the server's and the caller's locale, run by psql through
# test/regress-launcher.sh: "@fixtures@" in a test names the directory
# where test/installcheck.sh staged the fixtures for this run
REGRESS = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --encoding=UTF8 --no-locale --launcher=$(srcdir)/test/regress-launcher.sh

# isolation specs: test/isolation/specs/*.spec, the same way
ISOLATION = $(patsubst test/isolation/specs/%.spec,%,$(sort $(wildcard test/isolation/specs/*.spec)))
ISOLATION_OPTS = --inputdir=test/isolation --encoding=UTF8 --no-locale \
	--launcher=$(srcdir)/test/regress-launcher.sh

# TAP tests: test/t/*.pl, with clusters of their own (so not as root);
# "make installcheck TAP_TESTS=1" adds them
PROVE_TESTS = test/t/*.pl

# installcheck is PGXS's own, run by test/installcheck.sh: it checks the
# server first, stages the fixtures and removes them again afterwards
NO_INSTALLCHECK = 1

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

# make installcheck: the checks, the fixtures, then PGXS's installcheck
# (installcheck-staged) and the removal of the fixtures
.PHONY: installcheck installcheck-staged
installcheck:
	@MAKE='$(MAKE)' PG_BINDIR='$(bindir)' PG_PKGLIBDIR='$(pkglibdir)' \
	 MM_REGRESS='$(REGRESS)$(ISOLATION)' MM_TAP='$(TAP_TESTS)' PROVE_TESTS='$(PROVE_TESTS)' \
	 $(srcdir)/test/installcheck.sh

installcheck-staged:
ifdef REGRESS
	$(pg_regress_installcheck) $(REGRESS_OPTS) $(REGRESS)
endif
ifdef ISOLATION
	$(pg_isolation_regress_installcheck) $(ISOLATION_OPTS) $(ISOLATION)
endif
ifdef TAP_TESTS
	$(prove_installcheck)
endif
