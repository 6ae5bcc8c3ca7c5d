/*-------------------------------------------------------------------------
 *
 * relsize.h
 *	  A relation's size on disk, as pg_total_relation_size() gives it, but
 *	  read without taking any lock on the relation.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MORGENMIGRATE_RELSIZE_H
#define MORGENMIGRATE_RELSIZE_H

#include "postgres.h"

extern int64 relsize_total(Oid relid);

#endif							/* MORGENMIGRATE_RELSIZE_H */
