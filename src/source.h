/*-------------------------------------------------------------------------
 *
 * source.h
 *	  The migration directory: its migrations as their layout names,
 *	  orders and pairs them, each file read once for its checksum and
 *	  markers, and a migration's text read for running.  Files only:
 *	  nothing here touches the database.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MORGENMIGRATE_SOURCE_H
#define MORGENMIGRATE_SOURCE_H

#include "postgres.h"

#include "files.h"
#include "layout.h"
#include "migration.h"

extern char *migration_dir_check(const char *dir);
extern MigrationDir *migration_dir_list(const char *path);
extern bool migration_name_matches(const char *name, const char *target);
extern bool migration_file_matches(const MigrationDir *dir,
								   const MigrationFile *file,
								   const char *target);
extern int	migration_dir_open(const MigrationDir *dir);
extern void migration_dir_close(int dirfd);
extern void migration_inspect(MigrationDir *dir, int dirfd,
							  MigrationFile *file);
extern void migration_dir_settle(MigrationDir *dir, int dirfd);
extern void migration_dir_trust(MigrationDir *dir, int dirfd,
								const FileFingerprint *fps, int n);
extern bool migration_keeps(const MigrationDir *dir, const struct stat *st);
extern List *migration_fingerprints_proved(const MigrationDir *dir);
extern List *migration_dir_ignored(MigrationDir *dir);
extern MigrationScript *migration_read(const MigrationDir *dir,
									   const char *name, const char *path,
									   MigrationSection section);
extern void migration_configure(MigrationScript *script,
								const LayoutConfig *config);
extern FileText migration_read_text(const MigrationDir *dir, const char *path);
extern const char *migration_down_file(const MigrationDir *dir,
									   const char *name);
extern const MigrationFile *migration_find(const MigrationDir *dir,
										   const char *name);

#endif							/* MORGENMIGRATE_SOURCE_H */
