/*-------------------------------------------------------------------------
 *
 * golang_migrate.c
 *	  golang-migrate's layout: VERSION_name.up.sql and VERSION_name.down.sql,
 *	  in version order.  Its names are read by the flat family's rules
 *	  (plain.c); the files carry no markers and run whole.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "../layout.h"

const LayoutMethods golang_migrate_layout = {
	.layout = LAYOUT_GOLANG_MIGRATE,
	.name = "golang-migrate",
	.runner = "golang-migrate",
	.family = FAMILY_FLAT,
	.read_name = NULL,
	.compare = flat_compare,
	.version_cmp = migration_name_cmp,
	.scan = NULL,
};
