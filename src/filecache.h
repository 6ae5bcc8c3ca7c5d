/*-------------------------------------------------------------------------
 *
 * filecache.h
 *	  What inspecting a file found (its checksum and sections), a
 *	  directory's listing, and a file prepared for a plan, kept by the
 *	  backend for as long as the file or directory stays as it was, and
 *	  what earlier sessions proved of a file (its fingerprint).
 *
 *-------------------------------------------------------------------------
 */
#ifndef MORGENMIGRATE_FILECACHE_H
#define MORGENMIGRATE_FILECACHE_H

#include <sys/stat.h>
#include <time.h>

#include "lib/stringinfo.h"
#include "nodes/pg_list.h"

#include "files.h"
#include "layout.h"
#include "migration.h"

extern bool filecache_lookup(int dirfd, dev_t device, const char *relpath,
							 EntryRole role, MigrationLayout scan_layout,
							 bool lines,
							 off_t max_size, char *checksum,
							 FileSections *sections, struct stat *found);
struct MigrationDir;

extern int	filecache_dir_seen(const char *path);

extern struct MigrationDir *filecache_dir_lookup(const char *path,
												 const struct stat *st);
extern void filecache_dir_store(const char *path, const struct stat *st,
								const struct timespec *read_at,
								const struct MigrationDir *dir);
extern void filecache_store(const struct stat *st, const struct timespec *read_at,
							EntryRole role, MigrationLayout scan_layout,
							bool lines, const char *checksum,
							const FileSections *sections);
extern void filecache_script_begin(void);
extern MigrationScript *filecache_script_lookup(const struct stat *st,
												const char *relpath,
												const ScriptUse *use);
extern void filecache_script_store(const char *relpath, const ScriptUse *use,
								   const MigrationScript *script);

extern FingerprintSet *filecache_fingerprints(int dirfd,
											  const FileFingerprint *fps,
											  int n);
extern bool filecache_fingerprint_lookup(FingerprintSet *set, int dirfd,
										 const char *filename,
										 const char *relpath, EntryRole role,
										 MigrationLayout scan_layout,
										 bool lines, off_t max_size,
										 char *checksum,
										 FileSections *sections,
										 struct stat *st);
extern void filecache_fingerprint_prove(FingerprintSet *set, int dirfd,
										const char *filename,
										const char *relpath,
										const FileText *ft, EntryRole role,
										MigrationLayout scan_layout,
										bool lines, const char *checksum,
										const FileSections *sections);
extern List *filecache_fingerprints_proved(FingerprintSet *set);

extern bool filecache_stamp_settled(const struct stat *st,
									const struct timespec *read_at);
extern void filecache_pack_reader(StringInfo buf);

#endif							/* MORGENMIGRATE_FILECACHE_H */
