/*-------------------------------------------------------------------------
 *
 * leftovers.h
 *	  The leftovers of migrate_run's failed concurrent index builds.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MORGENMIGRATE_LEFTOVERS_H
#define MORGENMIGRATE_LEFTOVERS_H

#include "migration.h"

extern void leftovers_drop(const MigrationScript *script,
						   const MigrationStatement *stmt);

#endif							/* MORGENMIGRATE_LEFTOVERS_H */
