/*-------------------------------------------------------------------------
 *
 * filecache.h
 *	  What inspecting a file found (its checksum and sections), kept by the
 *	  backend for as long as the file stays as it was.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MORGENMIGRATE_FILECACHE_H
#define MORGENMIGRATE_FILECACHE_H

#include <sys/stat.h>

#include "layout.h"

extern bool filecache_lookup(int dirfd, const char *relpath, EntryRole role,
							 MigrationLayout scan_layout, off_t max_size,
							 char *checksum, FileSections *sections);
struct MigrationDir;

extern bool filecache_dir_seen(const char *path);

extern struct MigrationDir *filecache_dir_lookup(const char *path,
												 const struct stat *st);
extern void filecache_dir_store(const char *path, const struct stat *st,
								const struct timespec *read_at,
								const struct MigrationDir *dir);
extern void filecache_store(const struct stat *st, const struct timespec *read_at,
							EntryRole role, MigrationLayout scan_layout,
							const char *checksum, const FileSections *sections);

#endif							/* MORGENMIGRATE_FILECACHE_H */
