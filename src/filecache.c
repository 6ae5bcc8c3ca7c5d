/*-------------------------------------------------------------------------
 *
 * filecache.c
 *	  What inspecting a migration file found, its checksum and its sections,
 *	  kept by the backend so that a later call of the same session reads
 *	  only the files that changed.  A no-op migrate_apply or a
 *	  migrate_status of 10,000 applied files then costs one stat() per file
 *	  instead of an open, reads, a close and a SHA-256 of every byte.
 *
 * A session keeps what it reads of a directory from its second call on
 * that directory (filecache_dir_seen): a deploy or a pg_cron job makes one
 * call, which would only pay for filling the cache.
 *
 * A file is taken as unchanged when stat() gives the same device, inode,
 * size, modification time and change time as when it was read.  The
 * change time (ctime) moves on every write, and no program can set it
 * back; but the kernel stamps files with a clock of coarse resolution, so
 * a file written twice within one tick could keep its times.  As git does
 * for its index ("racy git"), a file is kept only when both its times lie
 * RACY_MARGIN_S seconds before the moment it was read: any later write
 * stamps a time after that moment, and so differs from the one kept.
 *
 * What a file's text means depends on morgenmigrate.layout (its markers),
 * on standard_conforming_strings and backslash_quote (where the server's
 * scanner ends a string, hence a statement: a backslash before a quote),
 * and what may be read on morgenmigrate.allowed_directories; which file
 * systems' times are trusted depends on
 * morgenmigrate.trust_network_fingerprints: the cache is dropped whenever
 * one of them differs from the values it was filled under (a session that
 * kept files of a network file system while the setting was on must not
 * go on trusting them once a superuser turns it off), and a fingerprint counts only under the same values.
 * A link retargeted elsewhere gives another device and inode, hence a
 * miss, so the file is opened and checked again.  Each reading of a file
 * (its role, the layout whose markers counted, whether its checksum is
 * over lines) is an entry of its own: a call may read a file twice.
 *
 * A new session has nothing kept yet.  What an earlier session proved of a
 * file it read (FileFingerprint, kept in morgenmigrate.file_fingerprints
 * by migrate_apply) stands in for the file instead, under the same rules:
 * the same device, inode, size and times, both times RACY_MARGIN_S
 * seconds before the file was read, and the same settings of its reading.
 * It is trusted only for a file reached from the directory without a link
 * (which could lead elsewhere since), on the directory's own device, and
 * only on a local file system whose times and inode numbers the kernel
 * keeps (files_fd_times_trusted): on a network file system, FUSE or one
 * not known, they need not change with the file.  The session keeps
 * nothing there either (source.c, migration_keeps), nor of a file on
 * another device than its directory.  A fingerprint holds every reading
 * of the file a call made (one before the directory's layout was settled
 * by the files' markers, one after), so that no later session has one of
 * them to read again.
 *
 * The listing of a directory (its migrations, versions, order and down
 * files) is kept the same way, keyed by its path, while the directory's
 * own times stay as they were: adding, removing or renaming an entry
 * changes them.  source.c keeps only listings that nothing else can
 * change: no links, no subdirectories, no config files.  The listings kept
 * take at most MAX_CACHED_DIR_BYTES together; the least recently used go
 * first, so a session that reads thousands of directories (one per
 * tenant) stays within that bound.
 *
 * What migrate_plan makes of a pending file before it classifies it (its
 * text cut to the section, split into statements, each with its raw
 * parse tree, through the preflight) is kept the same way, keyed by the
 * file and checked against its stat() as its checksum is, and against
 * the settings the parse and the preflight read (ScriptUse).  Each call
 * gets a copy, whose trees it may change.  What a statement costs (the
 * catalog, sizes, locks) is never kept.  The scripts kept take at most
 * MAX_CACHED_SCRIPT_BYTES together, least recently used first out.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <time.h>

#include "common/hashfn.h"
#include "lib/ilist.h"
#include "nodes/nodes.h"
#include "parser/parser.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

#include "build_identity.h"
#include "filecache.h"
#include "files.h"
#include "migration.h"
#include "morgenmigrate.h"

/* seconds a file's times must lie before its reading to be kept */
#define RACY_MARGIN_S 2
/*
 * more readings of files than this and the cache starts over (a few hundred
 * bytes each: some 17 MB at most); likewise for the directories seen (16
 * bytes each)
 */
#define MAX_CACHED_FILES 50000
#define MAX_DIRS_SEEN 100000
/*
 * the memory the kept listings may take together; likewise the scripts
 * (with their parse trees, some 12 kB for a CREATE TABLE of five columns:
 * some 1,300 such files)
 */
#define MAX_CACHED_DIR_BYTES (8 * 1024 * 1024)
#define MAX_CACHED_SCRIPT_BYTES (16 * 1024 * 1024)


/*
 * What stat() says of a file that must stay as it was for what was found in
 * it to stand: which file it is (device and inode), its size and its times,
 * to the nanosecond.  A fingerprint keeps the same five numbers.
 */
typedef struct FileStamp
{
	int64		dev;
	int64		ino;
	int64		size;
	int64		mtime_ns;		/* nanoseconds since the epoch */
	int64		ctime_ns;
} FileStamp;

typedef struct CachedFileKey
{
	dev_t		dev;
	ino_t		ino;
} CachedFileKey;

/*
 * A reading of a file: the file, and how it was read.  A call may read one
 * file twice (before and after the files' markers settle its directory's
 * layout), and each reading is kept on its own, so that neither pushes
 * the other out and the file is read again on every call.
 */
typedef struct CachedReadingKey
{
	dev_t		dev;
	ino_t		ino;
	EntryRole	role;
	MigrationLayout scan_layout;	/* whose markers counted */
	bool		lines;			/* the checksum is over its lines */
} CachedReadingKey;

typedef struct CachedFile
{
	CachedReadingKey key;
	FileStamp	stamp;
	char		checksum[MM_CHECKSUM_LEN + 1];
	FileSections sections;		/* arrays in cache_cxt */
} CachedFile;

/* A directory this session listed. */
typedef struct SeenDir
{
	uint64		key;			/* the hash of its path */
	int			calls;			/* the calls that listed it before */
} SeenDir;

typedef struct CachedDir
{
	char		path[MAXPGPATH];	/* key */
	FileStamp	stamp;
	MemoryContext cxt;			/* holds dir */
	MigrationDir *dir;
	Size		bytes;			/* what cxt takes */
	dlist_node	lru;			/* in dir_lru, most recently used first */
} CachedDir;

/* A file's prepared script, for migrate_plan. */
typedef struct CachedScript
{
	CachedFileKey key;
	FileStamp	stamp;
	ScriptUse	use;			/* what it was prepared under */
	char	   *relpath;		/* in cxt: the name it was read by */
	MemoryContext cxt;			/* holds relpath and script */
	MigrationScript *script;
	Size		bytes;			/* what cxt takes */
	uint64		used_in;		/* the call that used it last */
	dlist_node	lru;			/* in script_lru, most recently used first */
} CachedScript;

/* What is known of one file of a directory, by its name. */
typedef struct FingerprintEntry
{
	uint64		key;			/* the hash of its name */
	const char *filename;
	const FileFingerprint *kept;	/* what an earlier session proved */
	FileFingerprint *proved;	/* what this call proved */
	bool		collides;		/* two names of one hash: trust neither */
} FingerprintEntry;

struct FingerprintSet
{
	HTAB	   *entries;		/* FingerprintEntry */
	dev_t		device;			/* the directory's */
	int			nproved;		/* entries with proved set */
	MemoryContext cxt;
	StringInfoData reader;		/* filecache_pack_reader's, made once */
	StringInfoData head;		/* pack_reading's of the file at hand */
};

static HTAB *cache = NULL;
static HTAB *dir_cache = NULL;
static HTAB *dirs_seen = NULL;	/* SeenDir: the directories listed */
static MemoryContext cache_cxt = NULL;
static char *cached_allowed = NULL; /* in cache_cxt */
static int	cached_layout = -1;
static bool cached_standard_strings = false;
static int	cached_backslash_quote = -1;
static bool cached_trust_network = false;
static dlist_head dir_lru = DLIST_STATIC_INIT(dir_lru);
static Size dir_bytes = 0;		/* what the kept listings take */
static HTAB *script_cache = NULL;
static dlist_head script_lru = DLIST_STATIC_INIT(script_lru);
static Size script_bytes = 0;	/* what the kept scripts take */
static uint64 script_call = 0;	/* the call using the scripts now */

static HTAB *cache_hash(const char *name, long size, Size keysize,
						Size entrysize, int keyflags);
static void cache_reset(void);
static bool cache_usable(void);
static FileStamp stamp_of(const struct stat *st);
static FileStamp fingerprint_stamp(const FileFingerprint *fp);
static bool same_stamp(const FileStamp *a, const FileStamp *b);
static CachedFileKey file_key(const struct stat *st);
static void reading_key(CachedReadingKey *key, const struct stat *st,
						EntryRole role, MigrationLayout scan_layout,
						bool lines);
static MigrationDir *dir_copy(const MigrationDir *src);
static MigrationScript *script_copy(const MigrationScript *src);
static void *keep_dir(const void *src);
static void *keep_script(const void *src);
static void *copy_to_keep(MemoryContext cxt, void *(*copy) (const void *src),
						  const void *src, Size limit, Size *bytes);

static FingerprintEntry *fingerprint_entry(FingerprintSet *set,
										   const char *filename, bool create);
static bool stat_unlinked(int dirfd, const char *relpath, struct stat *st);
static void pack_reading(StringInfo buf, EntryRole role,
						 MigrationLayout scan_layout, bool lines);
static bool find_reading(const char *facts, int len, const StringInfo reader,
						 const StringInfo head, const char **start,
						 const char **end);
static void copy_other_readings(StringInfo buf, const char *facts, int len,
								const StringInfo reader,
								const StringInfo head);
static const FileFingerprint *fingerprint_standing(const FingerprintEntry *e,
												   const FileStamp *now,
												   const char *checksum,
												   const StringInfo reader);
static void dir_forget(CachedDir *cd);
static void script_forget(CachedScript *cs);

/* A hash table of the cache, in its memory; keyflags: how keys compare. */
static HTAB *
cache_hash(const char *name, long size, Size keysize, Size entrysize,
		   int keyflags)
{
	HASHCTL		ctl;

	ctl.keysize = keysize;
	ctl.entrysize = entrysize;
	ctl.hcxt = cache_cxt;
	return hash_create(name, size, &ctl, HASH_ELEM | HASH_CONTEXT | keyflags);
}

/* Drops every entry and starts over under the current settings. */
static void
cache_reset(void)
{
	if (cache_cxt == NULL)
		cache_cxt = AllocSetContextCreate(TopMemoryContext,
										  "morgenmigrate file cache",
										  ALLOCSET_DEFAULT_SIZES);
	else
		MemoryContextReset(cache_cxt);

	cache = cache_hash("morgenmigrate file cache", 1024,
					   sizeof(CachedReadingKey), sizeof(CachedFile),
					   HASH_BLOBS);
	dir_cache = cache_hash("morgenmigrate directory cache", 16,
						   MAXPGPATH, sizeof(CachedDir), HASH_STRINGS);
	dirs_seen = cache_hash("morgenmigrate directories seen", 16,
						   sizeof(uint64), sizeof(SeenDir), HASH_BLOBS);
	dlist_init(&dir_lru);
	dir_bytes = 0;
	script_cache = cache_hash("morgenmigrate script cache", 64,
							  sizeof(CachedFileKey), sizeof(CachedScript),
							  HASH_BLOBS);
	dlist_init(&script_lru);
	script_bytes = 0;
	cached_allowed = MemoryContextStrdup(cache_cxt,
										 mm_allowed_directories ? mm_allowed_directories : "");
	cached_layout = mm_layout;
	cached_standard_strings = standard_conforming_strings;
	cached_backslash_quote = backslash_quote;
	cached_trust_network = mm_trust_network_fingerprints;
}

/*
 * Tells whether the cache holds what the current settings would make of
 * its files, starting it over if not.
 */
static bool
cache_usable(void)
{
	const char *allowed = mm_allowed_directories ? mm_allowed_directories : "";

	if (cache != NULL && cached_layout == mm_layout &&
		cached_standard_strings == standard_conforming_strings &&
		cached_backslash_quote == backslash_quote &&
		cached_trust_network == mm_trust_network_fingerprints &&
		strcmp(cached_allowed, allowed) == 0)
		return true;
	cache_reset();
	return false;
}

/* A file time in nanoseconds since the epoch. */
static int64
time_ns(const struct timespec *t)
{
	return (int64) t->tv_sec * 1000000000 + t->tv_nsec;
}

/* The stamp of what stat() found. */
static FileStamp
stamp_of(const struct stat *st)
{
	FileStamp	stamp;

	stamp.dev = (int64) st->st_dev;
	stamp.ino = (int64) st->st_ino;
	stamp.size = (int64) st->st_size;
	stamp.mtime_ns = time_ns(&st->st_mtim);
	stamp.ctime_ns = time_ns(&st->st_ctim);
	return stamp;
}

/* The stamp a fingerprint keeps. */
static FileStamp
fingerprint_stamp(const FileFingerprint *fp)
{
	FileStamp	stamp;

	stamp.dev = fp->device;
	stamp.ino = fp->inode;
	stamp.size = fp->size;
	stamp.mtime_ns = fp->mtime_ns;
	stamp.ctime_ns = fp->ctime_ns;
	return stamp;
}

/* Tells whether two stamps say the same file, as it was. */
static bool
same_stamp(const FileStamp *a, const FileStamp *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
		a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns;
}

/*
 * Tells whether both times of what stat() found lie RACY_MARGIN_S seconds
 * or more before read_at: any later write stamps a later time.
 */
bool
filecache_stamp_settled(const struct stat *st, const struct timespec *read_at)
{
	int64		limit = time_ns(read_at) - (int64) RACY_MARGIN_S * 1000000000;

	return time_ns(&st->st_mtim) <= limit && time_ns(&st->st_ctim) <= limit;
}

/* The hash key of a file: its device and inode. */
static CachedFileKey
file_key(const struct stat *st)
{
	CachedFileKey key;

	memset(&key, 0, sizeof(key));
	key.dev = st->st_dev;
	key.ino = st->st_ino;
	return key;
}

/*
 * Fills in *key, the hash key of a reading of a file: its device and
 * inode, and how it was read.  Zeroed in place first: the hash and the
 * compare take its padding too, which a struct returned by value need not
 * carry over.
 */
static void
reading_key(CachedReadingKey *key, const struct stat *st, EntryRole role,
			MigrationLayout scan_layout, bool lines)
{
	memset(key, 0, sizeof(*key));
	key->dev = st->st_dev;
	key->ino = st->st_ino;
	key->role = role;
	key->scan_layout = scan_layout;
	key->lines = lines;
}

/*
 * Fills in checksum and sections (arrays in the current memory context)
 * from the cache if the file at relpath in the directory open as dirfd
 * (links followed) is a regular file of at most max_size bytes on device
 * (the directory's: the session keeps no file of another) that is still
 * as it was when it was read, as role, with the markers of
 * scan_layout counting and its checksum over lines or not as lines says
 * (a file linked into two directories is read by each one's rules), and
 * *found what stat() found.  False
 * otherwise, or when stat() fails: the caller reads the file, and reports
 * what is wrong with it.
 */
bool
filecache_lookup(int dirfd, dev_t device, const char *relpath, EntryRole role,
				 MigrationLayout scan_layout, bool lines, off_t max_size,
				 char *checksum, FileSections *sections, struct stat *found)
{
	struct stat st;
	CachedReadingKey key;
	CachedFile *cf;
	FileStamp	now;

	/* a session's first call finds nothing: it need not stat the file */
	if (dirfd < 0 || !cache_usable() || hash_get_num_entries(cache) == 0)
		return false;
	if (fstatat(dirfd, relpath, &st, 0) < 0 || !S_ISREG(st.st_mode) ||
		st.st_size > max_size || st.st_dev != device)
		return false;

	reading_key(&key, &st, role, scan_layout, lines);
	now = stamp_of(&st);
	cf = hash_search(cache, &key, HASH_FIND, NULL);
	if (cf == NULL || !same_stamp(&cf->stamp, &now))
		return false;

	memcpy(checksum, cf->checksum, MM_CHECKSUM_LEN + 1);
	*sections = layout_copy_sections(&cf->sections);
	*found = st;
	return true;
}

/*
 * Keeps what was found in a file that fstat() described as st when it was
 * opened, read at read_at, unless the file is too new to be told apart
 * from a later write by its times.
 */
void
filecache_store(const struct stat *st, const struct timespec *read_at,
				EntryRole role, MigrationLayout scan_layout, bool lines,
				const char *checksum, const FileSections *sections)
{
	CachedReadingKey key;
	CachedFile *cf;
	bool		found;
	FileSections copy;
	MemoryContext oldcxt;

	if (!filecache_stamp_settled(st, read_at))
		return;
	(void) cache_usable();
	if (hash_get_num_entries(cache) >= MAX_CACHED_FILES)
		cache_reset();

	/* the copy first: an error in it must not leave a half-made entry */
	oldcxt = MemoryContextSwitchTo(cache_cxt);
	copy = layout_copy_sections(sections);
	MemoryContextSwitchTo(oldcxt);

	reading_key(&key, st, role, scan_layout, lines);
	cf = hash_search(cache, &key, HASH_ENTER, &found);
	if (found)
	{
		if (cf->sections.markers)
			pfree(cf->sections.markers);
		if (cf->sections.marker_lens)
			pfree(cf->sections.marker_lens);
		if (cf->sections.blocks)
			pfree(cf->sections.blocks);
	}
	cf->stamp = stamp_of(st);
	memcpy(cf->checksum, checksum, MM_CHECKSUM_LEN + 1);
	cf->sections = copy;
}

/*
 * How many calls of this session listed the directory at path before
 * (and notes this one).  A session keeps what it reads of a directory
 * only from its second call on: a deploy or a pg_cron job makes one call,
 * and filling the cache would only cost it time.
 */
int
filecache_dir_seen(const char *path)
{
	uint64		key = hash_bytes_extended((const unsigned char *) path,
										  strlen(path), 0);
	SeenDir    *seen;
	bool		found;

	(void) cache_usable();
	if (hash_get_num_entries(dirs_seen) >= MAX_DIRS_SEEN)
		cache_reset();
	seen = hash_search(dirs_seen, &key, HASH_ENTER, &found);
	if (!found)
		seen->calls = 0;
	else if (seen->calls < INT_MAX)
		seen->calls++;
	return seen->calls;
}

/*
 * A copy of a directory's listing in the current memory context: what the
 * cache keeps, or gives back (a call changes its copy as it goes).
 */
static MigrationDir *
dir_copy(const MigrationDir *src)
{
	MigrationDir *dst = palloc(sizeof(MigrationDir));
	ListCell   *lc;

	*dst = *src;
	dst->path = pstrdup(src->path);
	dst->fingerprints = NULL;
	dst->files = palloc(sizeof(MigrationFile) * Max(src->nfiles, 1));
	for (int i = 0; i < src->nfiles; i++)
	{
		const MigrationFile *f = &src->files[i];
		MigrationFile *c = &dst->files[i];

		*c = *f;
		c->name = pstrdup(f->name);
		c->path = f->path == f->name ? c->name : pstrdup(f->path);
		c->down_path = f->down_path ? pstrdup(f->down_path) : NULL;
		c->version = f->version ? pstrdup(f->version) : NULL;
		c->description = f->description ? pstrdup(f->description) : NULL;
		c->what = f->what ? pstrdup(f->what) : NULL;
		c->why = f->why ? pstrdup(f->why) : NULL;
		c->config.path = f->config.path ? pstrdup(f->config.path) : NULL;
		c->down_config.path = f->down_config.path ?
			pstrdup(f->down_config.path) : NULL;
		c->key = f->key ? pstrdup(f->key) : NULL;
		c->inspected = false;
		memset(&c->file_stat, 0, sizeof(c->file_stat));
	}
	dst->entries = palloc(sizeof(DirEntry) * Max(src->nentries, 1));
	for (int i = 0; i < src->nentries; i++)
	{
		dst->entries[i].name = pstrdup(src->entries[i].name);
		dst->entries[i].shown = pstrdup(src->entries[i].shown);
		dst->entries[i].is_dir = src->entries[i].is_dir;
		dst->entries[i].is_link = src->entries[i].is_link;
	}
	dst->ignored = NIL;
	foreach(lc, src->ignored)
	{
		const MigrationIgnored *ig = (const MigrationIgnored *) lfirst(lc);
		MigrationIgnored *c = palloc(sizeof(MigrationIgnored));

		c->name = pstrdup(ig->name);
		c->why = pstrdup(ig->why);
		c->is_dir = ig->is_dir;
		c->is_link = ig->is_link;
		dst->ignored = lappend(dst->ignored, c);
	}
	dst->orphans = NIL;
	foreach(lc, src->orphans)
	{
		const MigrationOrphan *o = (const MigrationOrphan *) lfirst(lc);
		MigrationOrphan *c = palloc(sizeof(MigrationOrphan));

		c->name = pstrdup(o->name);
		c->path = pstrdup(o->path);
		c->key = pstrdup(o->key);
		dst->orphans = lappend(dst->orphans, c);
	}
	return dst;
}

/*
 * A copy of a prepared script in the current memory context, its
 * statements' parse trees included: what a session keeps of a file, and
 * what each later use of it gets (classifying a statement may scribble on
 * its tree, as parse analysis does on the raw trees plancache.c copies).
 */
static MigrationScript *
script_copy(const MigrationScript *src)
{
	MigrationScript *dst = palloc(sizeof(MigrationScript));

	*dst = *src;
	dst->name = pstrdup(src->name);
	/* the statements' texts lie in it, each ending in a NUL */
	dst->text = palloc(src->len + 1);
	memcpy(dst->text, src->text, src->len + 1);
	dst->no_transaction_by = src->no_transaction_by ?
		pstrdup(src->no_transaction_by) : NULL;
	dst->sections = layout_copy_sections(&src->sections);
	dst->statements = palloc(sizeof(MigrationStatement) *
							 Max(src->nstatements, 1));
	for (int i = 0; i < src->nstatements; i++)
	{
		const MigrationStatement *s = &src->statements[i];
		MigrationStatement *d = &dst->statements[i];

		*d = *s;
		d->sql = dst->text + s->location;
		d->parsetree = copyObject(s->parsetree);
		d->top_level_what = s->top_level_what ?
			pstrdup(s->top_level_what) : NULL;
	}
	return dst;
}

/* dir_copy, as copy_to_keep calls it. */
static void *
keep_dir(const void *src)
{
	return dir_copy((const MigrationDir *) src);
}

/* script_copy, as copy_to_keep calls it. */
static void *
keep_script(const void *src)
{
	return script_copy((const MigrationScript *) src);
}

/*
 * What copy makes of src in cxt, a new memory context of the cache's,
 * which then takes *bytes; NULL, and cxt deleted, if that is more than
 * limit.
 */
static void *
copy_to_keep(MemoryContext cxt, void *(*copy) (const void *src),
			 const void *src, Size limit, Size *bytes)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(cxt);
	void	   *result = copy(src);

	MemoryContextSwitchTo(oldcxt);
	*bytes = MemoryContextMemAllocated(cxt, true);
	if (*bytes <= limit)
		return result;
	MemoryContextDelete(cxt);
	return NULL;
}

/* Drops a kept listing. */
static void
dir_forget(CachedDir *cd)
{
	dlist_delete(&cd->lru);
	dir_bytes -= cd->bytes;
	MemoryContextDelete(cd->cxt);
	hash_search(dir_cache, cd->path, HASH_REMOVE, NULL);
}

/*
 * A copy, in the current memory context, of the listing of the directory
 * at path if stat() found it (st) as it was when it was listed; NULL
 * otherwise.
 */
MigrationDir *
filecache_dir_lookup(const char *path, const struct stat *st)
{
	CachedDir  *cd;
	FileStamp	now = stamp_of(st);

	if (!cache_usable() || strlen(path) >= MAXPGPATH)
		return NULL;
	cd = hash_search(dir_cache, path, HASH_FIND, NULL);
	if (cd == NULL)
		return NULL;
	if (!same_stamp(&cd->stamp, &now))
	{
		dir_forget(cd);
		return NULL;
	}
	dlist_move_head(&dir_lru, &cd->lru);
	return dir_copy(cd->dir);
}

/*
 * Keeps the listing of the directory at path, which stat() described as
 * st just before it was listed at read_at, unless it changed while it was
 * listed or is too new to be told apart from a later change by its times.
 * The least recently used listings make room for it.
 */
void
filecache_dir_store(const char *path, const struct stat *st,
					const struct timespec *read_at, const MigrationDir *dir)
{
	struct stat now;
	CachedDir  *cd;
	bool		found;
	MemoryContext cxt;
	MigrationDir *copy;
	Size		bytes;
	FileStamp	listed = stamp_of(st);
	FileStamp	after;

	if (strlen(path) >= MAXPGPATH || !filecache_stamp_settled(st, read_at) ||
		stat(path, &now) < 0)
		return;
	after = stamp_of(&now);
	if (!same_stamp(&listed, &after))
		return;
	(void) cache_usable();

	/* the copy first: an error in it must not leave a half-made entry */
	cxt = AllocSetContextCreate(cache_cxt, "morgenmigrate cached directory",
								ALLOCSET_SMALL_SIZES);
	copy = copy_to_keep(cxt, keep_dir, dir, MAX_CACHED_DIR_BYTES, &bytes);
	if (copy == NULL)
		return;

	cd = hash_search(dir_cache, path, HASH_FIND, NULL);
	if (cd != NULL)
		dir_forget(cd);
	while (dir_bytes + bytes > MAX_CACHED_DIR_BYTES)
		dir_forget(dlist_container(CachedDir, lru, dlist_tail_node(&dir_lru)));

	cd = hash_search(dir_cache, path, HASH_ENTER, &found);
	Assert(!found);
	cd->stamp = listed;
	cd->cxt = cxt;
	cd->dir = copy;
	cd->bytes = bytes;
	dlist_push_head(&dir_lru, &cd->lru);
	dir_bytes += bytes;
}

/* Says that the scripts looked up and kept from now on are another call's. */
void
filecache_script_begin(void)
{
	script_call++;
}

/* Drops a kept script. */
static void
script_forget(CachedScript *cs)
{
	dlist_delete(&cs->lru);
	script_bytes -= cs->bytes;
	MemoryContextDelete(cs->cxt);
	hash_search(script_cache, &cs->key, HASH_REMOVE, NULL);
}

/*
 * A copy, in the current memory context, of the script kept of the file at
 * relpath, if the file is still as it was when it was read by that name
 * (st: as this call's inspection of it found it, which its checksum
 * describes) and it was prepared under use; NULL otherwise.
 */
MigrationScript *
filecache_script_lookup(const struct stat *st, const char *relpath,
						const ScriptUse *use)
{
	CachedFileKey key;
	CachedScript *cs;
	FileStamp	now;

	if (!cache_usable() || hash_get_num_entries(script_cache) == 0)
		return NULL;

	key = file_key(st);
	now = stamp_of(st);
	cs = hash_search(script_cache, &key, HASH_FIND, NULL);
	if (cs == NULL)
		return NULL;
	if (!same_stamp(&cs->stamp, &now) ||
		memcmp(&cs->use, use, sizeof(ScriptUse)) != 0 ||
		strcmp(cs->relpath, relpath) != 0)
	{
		script_forget(cs);
		return NULL;
	}
	dlist_move_head(&script_lru, &cs->lru);
	cs->used_in = script_call;
	return script_copy(cs->script);
}

/*
 * Keeps a script prepared under use from the file at relpath, unless its
 * file is too new to be told apart from a later write by its times (the
 * file's stat() and the moment of its reading are in the script).  The
 * least recently used scripts make room for it.
 */
void
filecache_script_store(const char *relpath, const ScriptUse *use,
					   const MigrationScript *script)
{
	const struct stat *st = &script->file_stat;
	CachedFileKey key;
	CachedScript *cs;
	bool		found;
	MemoryContext cxt;
	MigrationScript *copy;
	char	   *path;
	Size		bytes;

	if (!filecache_stamp_settled(st, &script->read_at))
		return;
	(void) cache_usable();

	/* the copy first: an error in it must not leave a half-made entry */
	cxt = AllocSetContextCreate(cache_cxt, "morgenmigrate cached script",
								ALLOCSET_SMALL_SIZES);
	copy = copy_to_keep(cxt, keep_script, script, MAX_CACHED_SCRIPT_BYTES,
						&bytes);
	if (copy == NULL)
		return;
	path = MemoryContextStrdup(cxt, relpath);
	bytes = MemoryContextMemAllocated(cxt, true);

	key = file_key(st);
	cs = hash_search(script_cache, &key, HASH_FIND, NULL);
	if (cs != NULL)
		script_forget(cs);
	while (script_bytes + bytes > MAX_CACHED_SCRIPT_BYTES)
	{
		CachedScript *oldest = dlist_container(CachedScript, lru,
											   dlist_tail_node(&script_lru));

		/* full of this call's own scripts: keep those */
		if (oldest->used_in == script_call)
		{
			MemoryContextDelete(cxt);
			return;
		}
		script_forget(oldest);
	}

	cs = hash_search(script_cache, &key, HASH_ENTER, &found);
	Assert(!found);
	cs->stamp = stamp_of(st);
	cs->use = *use;
	cs->relpath = path;
	cs->cxt = cxt;
	cs->script = copy;
	cs->bytes = bytes;
	cs->used_in = script_call;
	dlist_push_head(&script_lru, &cs->lru);
	script_bytes += bytes;
}

/*
 * The fingerprints kept for the files of the directory open as dirfd, as a
 * set to look files up in, in the current memory context; NULL when the
 * directory's file system gives no times to trust (files_fd_times_trusted).
 */
FingerprintSet *
filecache_fingerprints(int dirfd, const FileFingerprint *fps, int n)
{
	FingerprintSet *set = palloc0(sizeof(FingerprintSet));
	HASHCTL		ctl;

	if (!files_fd_times_trusted(dirfd, &set->device))
	{
		pfree(set);
		return NULL;
	}
	set->cxt = CurrentMemoryContext;
	ctl.keysize = sizeof(uint64);
	ctl.entrysize = sizeof(FingerprintEntry);
	ctl.hcxt = set->cxt;
	set->entries = hash_create("morgenmigrate fingerprints", Max(n, 64), &ctl,
							   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	initStringInfo(&set->reader);
	filecache_pack_reader(&set->reader);
	initStringInfo(&set->head);
	for (int i = 0; i < n; i++)
	{
		FingerprintEntry *e = fingerprint_entry(set, fps[i].filename, true);

		if (e != NULL)
			e->kept = &fps[i];
	}
	return set;
}

/*
 * The entry of a file in a set, made if create; NULL if there is none, or
 * if another name has the same hash (neither is trusted then).
 */
static FingerprintEntry *
fingerprint_entry(FingerprintSet *set, const char *filename, bool create)
{
	uint64		key = hash_bytes_extended((const unsigned char *) filename,
										  strlen(filename), 0);
	FingerprintEntry *e;
	bool		found;

	e = hash_search(set->entries, &key, create ? HASH_ENTER : HASH_FIND,
					&found);
	if (e == NULL)
		return NULL;
	if (!found)
	{
		e->filename = MemoryContextStrdup(set->cxt, filename);
		e->kept = NULL;
		e->proved = NULL;
		e->collides = false;
	}
	else if (strcmp(e->filename, filename) != 0)
		e->collides = true;
	return e->collides ? NULL : e;
}

/*
 * stat() of the file at relpath below the directory open as dirfd if
 * neither it nor a directory on the way there is a link: a link may lead
 * elsewhere than when its target was proved, or out of
 * morgenmigrate.allowed_directories.  False otherwise.
 */
static bool
stat_unlinked(int dirfd, const char *relpath, struct stat *st)
{
	for (const char *slash = strchr(relpath, '/'); slash != NULL;
		 slash = strchr(slash + 1, '/'))
	{
		char	   *dir = pnstrdup(relpath, slash - relpath);
		bool		ok;

		ok = fstatat(dirfd, dir, st, AT_SYMLINK_NOFOLLOW) == 0 &&
			S_ISDIR(st->st_mode);
		pfree(dir);
		if (!ok)
			return false;
	}
	return fstatat(dirfd, relpath, st, AT_SYMLINK_NOFOLLOW) == 0 &&
		S_ISREG(st->st_mode);
}

/*
 * The start of a fingerprint's facts: who read the file.  This build's
 * identity (the SHA-256 of the sources that decide what reading a file
 * finds, computed when it is built) and the server's version number, whose
 * scanner split the file.  A fingerprint another build or another server
 * wrote is not trusted.
 */
void
filecache_pack_reader(StringInfo buf)
{
	static int32 server_version = 0;

	if (server_version == 0)
		server_version = atoi(GetConfigOption("server_version_num", false,
											  false));
	appendBinaryStringInfo(buf, MM_BUILD_IDENTITY, strlen(MM_BUILD_IDENTITY));
	appendBinaryStringInfo(buf, (const char *) &server_version,
						   sizeof(server_version));
}

/*
 * What one reading of a file depends on beside its text: the role and the
 * markers counted, the setting of morgenmigrate.layout, whether the
 * checksum is over lines, and the settings of the server's scanner (where
 * a string ends, hence where a statement does).
 */
static void
pack_reading(StringInfo buf, EntryRole role, MigrationLayout scan_layout,
			 bool lines)
{
	int32		head[6];

	head[0] = role;
	head[1] = scan_layout;
	head[2] = mm_layout;
	head[3] = lines ? 1 : 0;
	head[4] = standard_conforming_strings ? 1 : 0;
	head[5] = backslash_quote;
	appendBinaryStringInfo(buf, (const char *) head, sizeof(head));
}

/*
 * Finds in facts (the reader, then readings: each its length, then its
 * head as pack_reading makes it and the sections found) the reading whose
 * head is head; its sections are then from *start to *end.  False if
 * there is none, or the facts are another reader's or malformed.  With
 * head NULL, only checks the reader and the form of every reading.
 */
static bool
find_reading(const char *facts, int len, const StringInfo reader,
			 const StringInfo head, const char **start, const char **end)
{
	int			at = reader->len;

	if (len < reader->len || memcmp(facts, reader->data, reader->len) != 0)
		return false;
	while (at < len)
	{
		int32		n;

		if (len - at < (int) sizeof(int32))
			return false;
		memcpy(&n, facts + at, sizeof(int32));
		at += sizeof(int32);
		if (n < 0 || n > len - at)
			return false;
		if (head != NULL && n >= head->len &&
			memcmp(facts + at, head->data, head->len) == 0)
		{
			*start = facts + at + head->len;
			*end = facts + at + n;
			return true;
		}
		at += n;
	}
	return head == NULL;
}

/*
 * Appends to buf (after the reader) the readings of facts but the one of
 * head, each with its length.
 */
static void
copy_other_readings(StringInfo buf, const char *facts, int len,
					const StringInfo reader, const StringInfo head)
{
	int			at = reader->len;

	while (at < len)
	{
		int32		n;

		memcpy(&n, facts + at, sizeof(int32));
		if (n < head->len ||
			memcmp(facts + at + sizeof(int32), head->data, head->len) != 0)
			appendBinaryStringInfo(buf, facts + at, sizeof(int32) + n);
		at += sizeof(int32) + n;
	}
}

/*
 * Fills in checksum and sections (arrays in the current memory context)
 * from the fingerprint an earlier session kept of the file filename at
 * relpath, read as role with the markers of scan_layout counting (and with
 * lines, its checksum over its lines), if the file is as it was then; st
 * gets its stat().  False otherwise: the caller reads the file.
 */
bool
filecache_fingerprint_lookup(FingerprintSet *set, int dirfd,
							 const char *filename, const char *relpath,
							 EntryRole role, MigrationLayout scan_layout,
							 bool lines, off_t max_size, char *checksum,
							 FileSections *sections, struct stat *st)
{
	FingerprintEntry *e;
	const FileFingerprint *fp;
	FileStamp	kept;
	FileStamp	now;
	const char *start;
	const char *end;
	bool		found;

	if (set == NULL || dirfd < 0 ||
		(e = fingerprint_entry(set, filename, false)) == NULL ||
		(fp = e->kept) == NULL ||
		!stat_unlinked(dirfd, relpath, st) || st->st_dev != set->device ||
		st->st_size > max_size || strlen(fp->checksum) != MM_CHECKSUM_LEN)
		return false;
	kept = fingerprint_stamp(fp);
	now = stamp_of(st);
	if (!same_stamp(&kept, &now))
		return false;

	resetStringInfo(&set->head);
	pack_reading(&set->head, role, scan_layout, lines);
	found = find_reading(fp->facts, fp->facts_len, &set->reader, &set->head,
						 &start, &end) &&
		layout_unpack_sections(start, end, sections);
	if (found)
		memcpy(checksum, fp->checksum, MM_CHECKSUM_LEN + 1);
	return found;
}

/*
 * The fingerprint this call has of a file stamped now with checksum: what
 * it proved already, or else what an earlier session kept, if either is
 * of the file as it is now, by this reader; NULL otherwise.
 */
static const FileFingerprint *
fingerprint_standing(const FingerprintEntry *e, const FileStamp *now,
					 const char *checksum, const StringInfo reader)
{
	const FileFingerprint *fps[2] = {e->proved, e->kept};

	for (int i = 0; i < lengthof(fps); i++)
	{
		FileStamp	stamp;

		if (fps[i] == NULL)
			continue;
		stamp = fingerprint_stamp(fps[i]);
		if (same_stamp(&stamp, now) && strcmp(fps[i]->checksum, checksum) == 0 &&
			find_reading(fps[i]->facts, fps[i]->facts_len, reader, NULL,
						 NULL, NULL))
			return fps[i];
	}
	return NULL;
}

/*
 * Notes what reading a file proved (ft, read as role with the markers of
 * scan_layout counting, found checksum and sections), for migrate_apply to
 * keep: unless the file is too new to be told apart from a later write by
 * its times, or is reached through a link, or changed since it was read.
 * A file read twice in one call (once before the directory's layout was
 * settled, once after) keeps both readings, beside any other an earlier
 * session proved of the file as it is: a later session then trusts both,
 * instead of reading one of them again and rewriting the fingerprint.
 */
void
filecache_fingerprint_prove(FingerprintSet *set, int dirfd,
							const char *filename, const char *relpath,
							const FileText *ft, EntryRole role,
							MigrationLayout scan_layout, bool lines,
							const char *checksum, const FileSections *sections)
{
	struct stat st;
	FingerprintEntry *e;
	FileFingerprint *fp;
	const FileFingerprint *standing;
	StringInfoData reader;
	StringInfoData head;
	StringInfoData facts;
	StringInfoData reading;
	FileStamp	read;
	FileStamp	now;
	MemoryContext oldcxt;

	if (set == NULL || dirfd < 0 || !filecache_stamp_settled(&ft->st, &ft->read_at) ||
		!stat_unlinked(dirfd, relpath, &st) || st.st_dev != set->device)
		return;
	read = stamp_of(&ft->st);
	now = stamp_of(&st);
	if (!same_stamp(&read, &now) ||
		(e = fingerprint_entry(set, filename, true)) == NULL)
		return;

	oldcxt = MemoryContextSwitchTo(set->cxt);
	initStringInfo(&reader);
	filecache_pack_reader(&reader);
	initStringInfo(&head);
	pack_reading(&head, role, scan_layout, lines);
	initStringInfo(&reading);
	appendBinaryStringInfo(&reading, head.data, head.len);
	layout_pack_sections(&reading, sections);

	initStringInfo(&facts);
	appendBinaryStringInfo(&facts, reader.data, reader.len);
	standing = fingerprint_standing(e, &now, checksum, &reader);
	if (standing != NULL)
		copy_other_readings(&facts, standing->facts, standing->facts_len,
							&reader, &head);
	appendBinaryStringInfo(&facts, (const char *) &reading.len, sizeof(int32));
	appendBinaryStringInfo(&facts, reading.data, reading.len);

	if (e->proved == NULL)
		set->nproved++;
	fp = e->proved ? e->proved : palloc(sizeof(FileFingerprint));
	fp->filename = (char *) e->filename;
	fp->device = now.dev;
	fp->inode = now.ino;
	fp->size = now.size;
	fp->mtime_ns = now.mtime_ns;
	fp->ctime_ns = now.ctime_ns;
	memcpy(fp->checksum, checksum, MM_CHECKSUM_LEN + 1);
	fp->facts = facts.data;
	fp->facts_len = facts.len;
	e->proved = fp;
	pfree(reader.data);
	pfree(head.data);
	pfree(reading.data);
	MemoryContextSwitchTo(oldcxt);
}

/*
 * Everything this call proved, a FileFingerprint pointer each (the files of
 * migrations, and the other files read with them: down files, and files
 * read as candidates while the directory's layout was settled).
 */
List *
filecache_fingerprints_proved(FingerprintSet *set)
{
	List	   *proved = NIL;
	HASH_SEQ_STATUS status;
	FingerprintEntry *e;

	if (set == NULL || set->nproved == 0)
		return NIL;
	hash_seq_init(&status, set->entries);
	while ((e = (FingerprintEntry *) hash_seq_search(&status)) != NULL)
		if (e->proved != NULL && !e->collides)
			proved = lappend(proved, e->proved);
	return proved;
}

