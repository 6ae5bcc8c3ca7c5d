/*-------------------------------------------------------------------------
 *
 * dirproof.c
 *	  A directory's proof: that migrate_apply found nothing to do in it,
 *	  kept with everything that answer depended on, so that a later call
 *	  of a new session that finds all of it as it was gives the same
 *	  answer at once.  Such a call lists the directory and stat()s each
 *	  entry, and reads the history's pages, but makes nothing of the
 *	  history's rows and reads no fingerprint: a deploy or a pg_cron job
 *	  with nothing to apply in 10,000 files costs little more than the
 *	  stat() of each file.
 *
 * What a no-op migrate_apply answers is a function of:
 *
 *	- the directory's entries: their names (the directory's own times
 *	  change with them), and each file's text, which
 *	  its inode, size and times stand for under the rule the file cache
 *	  and the fingerprints follow (filecache.c: both times RACY_MARGIN_S
 *	  seconds before the call began, on a local file system, on the
 *	  directory's own device, not through a link);
 *	- the rows of both history tables;
 *	- the settings that decide how files are listed, read, limited and
 *	  allowed, the database's encoding, the role that calls, and this
 *	  build of the library on this server (filecache_pack_reader).
 *
 * A proof keeps all of them: the settings as they are, the directory's
 * device, inode and times, its entries as a digest of each one's name,
 * inode, mode, size and times, and the history
 * as a digest of the bytes of every row of both tables, as the call read
 * them (under its snapshot), with their columns (what the bytes are read
 * as).  Its facts are those values one after the
 * other; a later call packs the same from what it finds and compares the
 * bytes.  Equal, the later call is the same call over the same inputs, and
 * gives the same answer: nothing to do.  Any difference, and the call
 * goes the long way, which proves (and keeps) again.
 *
 * Reading the history's rows, not a stamp of the table (its file node,
 * its pages' LSNs), is what makes this safe against what a stamp misses:
 * a DELETE of a history row by a transaction that was still open when the
 * proof was made, and that commits later without touching the page again;
 * a table restored with its data only; triggers disabled or a table made
 * unlogged.  Whatever changed the rows, the rows differ.
 *
 * A proof is kept only by a call that found nothing to do and said
 * nothing: it read no file (each was served by a fingerprint or the
 * session's cache: reading a file can make the server's scanner say
 * something, an identifier truncated or a backslash in a string, which a
 * call answering from the proof would not say), every migration applied
 * or a baseline, no history row without
 * its file, no down file without its up file, the default target and
 * steps, the database's own history (not a tenant's), a directory on
 * disk (not a pushed set); and only of a directory whose entries are all
 * regular files, no link and no subdirectory (a file changed inside a
 * subdirectory leaves the subdirectory's entry as it was), and whose
 * entries' and own times all lie RACY_MARGIN_S seconds before the call
 * began: a file added, removed, renamed or written since then changes one
 * of them, so what the call read is what the proof describes.
 *
 * The proof is the row of morgenmigrate.file_fingerprints of the
 * directory whose file name is empty (no file has that name): deleting
 * the fingerprints deletes the proofs too, and pg_dump leaves both out.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>
#include <sys/stat.h>

#include "common/hashfn.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "parser/parser.h"

#include "dirproof.h"
#include "filecache.h"
#include "files.h"
#include "history.h"
#include "migration.h"
#include "morgenmigrate.h"
#include "plan.h"

/* the first bytes of a proof's facts: what form the rest has */
#define PROOF_FORM "morgenmigrate directory proof 2"

/*
 * After the facts, the order of the migrations, for migrate_status: how
 * many there are (the history's rows, each a file's), and either
 * ORDER_SORTED (in the order of their names, as the history is read) or
 * ORDER_LISTED followed by the index of each one's history row, in the
 * order the call listed them.
 */
#define ORDER_SORTED 0
#define ORDER_LISTED 1

/* What a walk of a directory found. */
typedef struct Listing
{
	struct stat dir;			/* the directory's own stat() */
	uint64		count;			/* its entries */
	uint64		sum;			/* of a hash of each entry */
	uint64		xor;
	const struct timespec *settled_by;	/* every time lies before it, or
										 * NULL: not asked */
} Listing;

static bool walk_entry(const char *name, const struct stat *st, void *arg);
static bool list_directory(const char *path, Listing *listing,
						   const struct timespec *settled_by);
static void pack_int64s(StringInfo buf, const int64 *values, int n);
static void pack_settings(StringInfo buf);
static void pack_listing(StringInfo buf, const Listing *listing);
static void pack_history(StringInfo buf, const HistoryDigest *digest);

/* Nanoseconds since the epoch. */
static int64
ns_of(const struct timespec *ts)
{
	return (int64) ts->tv_sec * 1000000000 + ts->tv_nsec;
}

/*
 * Adds an entry of the directory (or, name NULL, the directory itself) to
 * a listing; false (the walk stops) for an entry a proof cannot stand
 * for: anything but a regular file of the directory's own device, or one
 * too recent when settled_by is asked.
 */
static bool
walk_entry(const char *name, const struct stat *st, void *arg)
{
	Listing    *listing = (Listing *) arg;
	unsigned char buf[5 * sizeof(int64) + NAME_MAX + 1];
	int64		stamp[5];
	size_t		len;
	uint64		h;

	if (listing->settled_by != NULL &&
		!filecache_stamp_settled(st, listing->settled_by))
		return false;
	if (name == NULL)
	{
		listing->dir = *st;
		return true;
	}
	len = strlen(name);
	if (!S_ISREG(st->st_mode) || st->st_dev != listing->dir.st_dev ||
		len > NAME_MAX)
		return false;
	stamp[0] = (int64) st->st_ino;
	stamp[1] = (int64) st->st_mode;
	stamp[2] = (int64) st->st_size;
	stamp[3] = ns_of(&st->st_mtim);
	stamp[4] = ns_of(&st->st_ctim);
	memcpy(buf, stamp, sizeof(stamp));
	memcpy(buf + sizeof(stamp), name, len);
	h = hash_bytes_extended(buf, sizeof(stamp) + len, 0);
	listing->count++;
	listing->sum += h;
	listing->xor ^= h;
	return true;
}

/*
 * Walks a directory into a listing; false where a proof cannot stand for
 * it (walk_entry, files_dir_walk).
 */
static bool
list_directory(const char *path, Listing *listing,
			   const struct timespec *settled_by)
{
	memset(listing, 0, sizeof(Listing));
	listing->settled_by = settled_by;
	return files_dir_walk(path, walk_entry, listing);
}

/* Appends n 64-bit values. */
static void
pack_int64s(StringInfo buf, const int64 *values, int n)
{
	appendBinaryStringInfo(buf, (const char *) values, sizeof(int64) * n);
}

/*
 * The start of a proof's facts: its form, who reads the files (this build
 * on this server), and every setting a no-op migrate_apply's answer
 * depends on, with the encoding and the calling role.
 */
static void
pack_settings(StringInfo buf)
{
	const char *allowed = mm_allowed_directories ? mm_allowed_directories : "";
	int64		values[12];

	appendBinaryStringInfo(buf, PROOF_FORM, sizeof(PROOF_FORM));
	filecache_pack_reader(buf);
	values[0] = mm_layout;
	values[1] = mm_max_file_size;
	values[2] = mm_max_push_size;
	values[3] = mm_lock_timeout;
	values[4] = mm_lock_retries;
	values[5] = mm_max_locked_bytes;
	values[6] = mm_trust_network_fingerprints;
	values[7] = standard_conforming_strings;
	values[8] = backslash_quote;
	values[9] = GetDatabaseEncoding();
	values[10] = GetUserId();
	values[11] = strlen(allowed);
	pack_int64s(buf, values, lengthof(values));
	appendBinaryStringInfo(buf, allowed, strlen(allowed));
}

/* Appends the directory, its times and the digest of its entries. */
static void
pack_listing(StringInfo buf, const Listing *listing)
{
	int64		values[7];

	values[0] = (int64) listing->dir.st_dev;
	values[1] = (int64) listing->dir.st_ino;
	values[2] = ns_of(&listing->dir.st_mtim);
	values[3] = ns_of(&listing->dir.st_ctim);
	values[4] = (int64) listing->count;
	values[5] = (int64) listing->sum;
	values[6] = (int64) listing->xor;
	pack_int64s(buf, values, lengthof(values));
}

/* Appends the digests of both history tables, their columns with them. */
static void
pack_history(StringInfo buf, const HistoryDigest *digest)
{
	const TableDigest *tables[2] = {&digest->rows, &digest->failures};

	for (int i = 0; i < lengthof(tables); i++)
	{
		int64		values[5];

		values[0] = tables[i]->relid;
		values[1] = (int64) tables[i]->columns;
		values[2] = (int64) tables[i]->count;
		values[3] = (int64) tables[i]->sum;
		values[4] = (int64) tables[i]->xor;
		pack_int64s(buf, values, lengthof(values));
	}
}

/*
 * What the kept proof of the directory (its canonical path) holds after
 * its facts, where those facts are still true: the same settings, entries
 * and history rows as when a call found nothing to do; NULL where they
 * are not.  The history's rows are digested as read here, or, history
 * not NULL, read into *history once the directory's own times agree (so
 * that whatever reading them raises comes where a call raises it, after
 * the directory was found as it was).  The order that follows the facts
 * is taken only where it is whole.
 */
static const char *
kept_order(const char *path, History **history)
{
	FileFingerprint kept;
	StringInfoData facts;
	Listing		listing;
	HistoryDigest digest;
	struct stat st;
	uint32		header[2];
	int			len;

	if (!history_load_proof(path, &kept))
		return NULL;
	initStringInfo(&facts);
	pack_settings(&facts);

	/*
	 * Cheapest first: the settings; the directory's own times, which an
	 * entry added, removed or renamed (a deploy's new files) changes; the
	 * history; then every entry.
	 */
	if (kept.facts_len < facts.len ||
		memcmp(kept.facts, facts.data, facts.len) != 0 ||
		stat(path, &st) != 0 || kept.device != (int64) st.st_dev ||
		kept.inode != (int64) st.st_ino ||
		kept.mtime_ns != ns_of(&st.st_mtim) ||
		kept.ctime_ns != ns_of(&st.st_ctim))
		return NULL;
	if (history != NULL)
	{
		*history = history_load();
		digest = (*history)->digest;
	}
	else if (!history_digest(&digest))
		return NULL;
	if (!digest.valid || !list_directory(path, &listing, NULL))
		return NULL;
	pack_listing(&facts, &listing);
	pack_history(&facts, &digest);
	if (kept.facts_len < facts.len + (int) sizeof(header) ||
		memcmp(kept.facts, facts.data, facts.len) != 0)
		return NULL;
	memcpy(header, kept.facts + facts.len, sizeof(header));
	len = kept.facts_len - facts.len;
	if (header[0] != digest.rows.count ||
		len != (int) sizeof(header) + (header[1] == ORDER_LISTED ?
										 (int) (sizeof(uint32) * header[0]) : 0))
		return NULL;
	ereport(DEBUG1,
			(errmsg_internal("migration directory \"%s\" and the history are as when a call last found nothing to do",
							 path)));
	return kept.facts + facts.len;
}

/*
 * Tells whether the directory (its canonical path, checked as a call
 * checks it) has a proof that still stands: the same settings, entries
 * and history rows as when a call found nothing to do.  migrate_apply and
 * migrate_run ask under the migration lock, as they read under it;
 * migrate_check without, as its long way reads.  Only with the arguments
 * a proof is kept for (the database's history, the default target and
 * steps, no rehearsal).
 */
bool
dirproof_stands(const char *path)
{
	return kept_order(path, NULL) != NULL;
}

/*
 * For migrate_status, with the arguments a proof is kept for (it reads
 * without the migration lock, as its long way does): where the directory's
 * proof stands, every migration is applied as it is, and this returns
 * them in the order a call lists them, as the index of each one's row in
 * (*history)->rows ((*history)->nrows of them); otherwise NULL.  *history
 * is the history as read (directly, with the digest of its rows), or NULL
 * where it was not read.
 */
int *
dirproof_order(const char *path, History **history)
{
	const char *order;
	uint32		header[2];
	int		   *rows;

	*history = NULL;
	if ((order = kept_order(path, history)) == NULL)
		return NULL;
	memcpy(header, order, sizeof(header));
	if (header[0] != (uint32) (*history)->nrows)
		return NULL;
	rows = palloc(sizeof(int) * Max(header[0], 1));
	for (uint32 i = 0; i < header[0]; i++)
	{
		uint32		row = i;

		if (header[1] == ORDER_LISTED)
			memcpy(&row, order + sizeof(header) + sizeof(uint32) * i,
				   sizeof(uint32));
		if (row >= header[0])
			return NULL;
		rows[i] = (int) row;
	}
	return rows;
}

/*
 * Appends the order of a call's migrations (entries, every one applied
 * or a baseline: each names its history row); false where one does not.
 */
static bool
pack_order(StringInfo buf, const History *history, const List *entries)
{
	uint32		header[2] = {history->nrows, ORDER_SORTED};
	StringInfoData rows;
	ListCell   *lc;
	uint32		i = 0;

	if (list_length(entries) != history->nrows)
		return false;
	initStringInfo(&rows);
	foreach(lc, entries)
	{
		const MigrationEntry *e = (const MigrationEntry *) lfirst(lc);
		uint32		row;

		if (e->applied == NULL)
			return false;
		row = (uint32) (e->applied - history->rows);
		if (row != i++)
			header[1] = ORDER_LISTED;
		appendBinaryStringInfo(&rows, (const char *) &row, sizeof(row));
	}
	appendBinaryStringInfo(buf, (const char *) header, sizeof(header));
	if (header[1] == ORDER_LISTED)
		appendBinaryStringInfo(buf, rows.data, rows.len);
	pfree(rows.data);
	return true;
}

/*
 * Keeps the proof of a directory (its canonical path) after a call that
 * began at started found nothing to do in it, reading the history as
 * history: only where every entry is a regular file and every time of the
 * directory and its entries lies RACY_MARGIN_S seconds before started.
 * The caller decides that the call found nothing to do and said nothing
 * (commands.c, nothing_to_say).
 * Written where fingerprints are (history_save_fingerprints); nothing
 * where the caller may not write them.
 */
void
dirproof_keep(const char *path, const History *history, const List *entries,
			  const struct timespec *started)
{
	Listing		listing;
	StringInfoData facts;
	FileFingerprint fp;

	if (!history->digest.valid || !list_directory(path, &listing, started))
		return;
	initStringInfo(&facts);
	pack_settings(&facts);
	pack_listing(&facts, &listing);
	pack_history(&facts, &history->digest);
	if (!pack_order(&facts, history, entries))
		return;
	memset(&fp, 0, sizeof(fp));
	fp.filename = "";
	fp.device = (int64) listing.dir.st_dev;
	fp.inode = (int64) listing.dir.st_ino;
	fp.size = (int64) listing.count;
	fp.mtime_ns = ns_of(&listing.dir.st_mtim);
	fp.ctime_ns = ns_of(&listing.dir.st_ctim);
	snprintf(fp.checksum, sizeof(fp.checksum), "%016llx%016llx",
			 (unsigned long long) listing.sum,
			 (unsigned long long) listing.xor);
	fp.facts = facts.data;
	fp.facts_len = facts.len;
	if (history_save_fingerprints(path, &fp, 1))
		ereport(DEBUG1,
				(errmsg_internal("kept the proof that migration directory \"%s\" has nothing to apply",
								 path)));
	pfree(facts.data);
}
