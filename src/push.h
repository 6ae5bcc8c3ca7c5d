/*-------------------------------------------------------------------------
 *
 * push.h
 *	  Migration files sent over the connection: a table of the caller's,
 *	  (path, content), read as a migration directory.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MORGENMIGRATE_PUSH_H
#define MORGENMIGRATE_PUSH_H

#include "postgres.h"

extern char *push_open(Oid relid);

#endif							/* MORGENMIGRATE_PUSH_H */
