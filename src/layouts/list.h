/*-------------------------------------------------------------------------
 *
 * list.h
 *	  Every layout morgenmigrate reads, one line each: its value of
 *	  MigrationLayout, the LayoutMethods its file under src/layouts/
 *	  defines, and its name as morgenmigrate.layout says it.  A directory
 *	  entry's name is tried against the layouts in this order (those whose
 *	  names say it all first, the flat family's reader after them).
 *
 *	  Adding a runner is one file under src/layouts/ and one line here.
 *
 *-------------------------------------------------------------------------
 */
LAYOUT_ENTRY(LAYOUT_DIESEL, diesel_layout)
LAYOUT_ENTRY(LAYOUT_FLYWAY, flyway_layout)
LAYOUT_ENTRY(LAYOUT_POSTGRATOR, postgrator_layout)
LAYOUT_ENTRY(LAYOUT_PLAIN, plain_layout)
LAYOUT_ENTRY(LAYOUT_GOLANG_MIGRATE, golang_migrate_layout)
LAYOUT_ENTRY(LAYOUT_DBMATE, dbmate_layout)
LAYOUT_ENTRY(LAYOUT_GOOSE, goose_layout)
LAYOUT_ENTRY(LAYOUT_SQL_MIGRATE, sql_migrate_layout)
LAYOUT_ENTRY(LAYOUT_NODE_PG_MIGRATE, node_pg_migrate_layout)
