/*-------------------------------------------------------------------------
 *
 * filelimits.c
 *	  What a migration file sets ends with the file: its statement_timeout
 *	  directive armed as a deadline over the caller's, and, for a file run
 *	  statement by statement across commits (where no GUC nest level
 *	  survives), the caller's session settings saved and put back.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "miscadmin.h"
#include "utils/guc_tables.h"
#include "utils/timeout.h"

#include "compat.h"
#include "filelimits.h"

/* A session setting as it was before a file ran in steps. */
typedef struct SavedSetting
{
	const char *name;
	char	   *value;			/* NULL when not set in the session */
	GucContext	scontext;
	Oid			srole;
} SavedSetting;

/* The caller's session settings, saved before a file run in steps. */
typedef struct SavedSettings
{
	int			n;
	SavedSetting *settings;		/* in the order of get_guc_variables() */
} SavedSettings;

/* The deadline of the file running in steps, 0 when none is armed. */
static TimestampTz file_deadline = 0;

static bool is_session_setting(struct config_generic *gconf);
static char *setting_text(struct config_generic *gconf);
static int	cmp_saved_name(const void *key, const void *saved);
static void setting_restore(struct config_generic *gconf,
							const SavedSetting *ss);

/*
 * Tells whether a setting can differ between one statement of a session and
 * the next: those SET, set_config(), RESET ALL, SET ROLE, SET SESSION
 * AUTHORIZATION and SET SESSION CHARACTERISTICS change, not the
 * per-transaction ones (transaction_isolation, ...) nor setseed's seed.
 */
static bool
is_session_setting(struct config_generic *gconf)
{
	if (gconf->context != PGC_SUSET && gconf->context != PGC_USERSET)
		return false;
	return (gconf->flags & GUC_NO_RESET_ALL) == 0 ||
		strcmp(gconf->name, "role") == 0 ||
		strcmp(gconf->name, "session_authorization") == 0;
}

/* A setting's current value as text that sets it exactly. */
static char *
setting_text(struct config_generic *gconf)
{
	switch (gconf->vartype)
	{
		case PGC_BOOL:
			return pstrdup(*((struct config_bool *) gconf)->variable ? "on" : "off");
		case PGC_INT:
			return psprintf("%d", *((struct config_int *) gconf)->variable);
		case PGC_REAL:
			return psprintf("%.17g", *((struct config_real *) gconf)->variable);
		case PGC_STRING:
			{
				char	   *value = *((struct config_string *) gconf)->variable;

				return pstrdup(value ? value : "");
			}
		case PGC_ENUM:
			return pstrdup(config_enum_lookup_by_value((struct config_enum *) gconf,
													   *((struct config_enum *) gconf)->variable));
	}
	return NULL;
}

/* bsearch comparator: a setting's name against a SavedSetting. */
static int
cmp_saved_name(const void *key, const void *saved)
{
	return pg_strcasecmp((const char *) key,
						 ((const SavedSetting *) saved)->name);
}

/*
 * The caller's session settings before a file run in steps, to put back
 * after it.  A GUC nest level (as a function's SET clause uses) cannot
 * span the file's commits: every commit ends all nest levels and keeps
 * session values.  So every setting a session can change is saved, with
 * the context and role that set it.
 */
SavedSettings *
filelimits_save_settings(void)
{
	int			nvars;
	struct config_generic **vars = mm_guc_variables(&nvars);
	SavedSettings *saved = palloc(sizeof(SavedSettings));

	saved->n = 0;
	saved->settings = palloc(sizeof(SavedSetting) * Max(nvars, 1));
	for (int i = 0; i < nvars; i++)
	{
		SavedSetting *ss;

		if (!is_session_setting(vars[i]))
			continue;
		ss = &saved->settings[saved->n++];
		ss->name = pstrdup(vars[i]->name);
		ss->value = vars[i]->source == PGC_S_SESSION ?
			setting_text(vars[i]) : NULL;
		ss->scontext = vars[i]->scontext;
		ss->srole = vars[i]->srole;
	}
	return saved;
}

/* Puts one setting back as it was saved (NULL: not saved, so not set). */
static void
setting_restore(struct config_generic *gconf, const SavedSetting *ss)
{
	bool		was_set = ss != NULL && ss->value != NULL;
	bool		is_set = gconf->source == PGC_S_SESSION;
	char	   *now = is_set ? setting_text(gconf) : NULL;

	if (!was_set && !is_set)
		return;
	if (was_set && is_set && strcmp(now, ss->value) == 0)
		return;
	/* as saved, in the context that set it then; else RESET */
	if (was_set)
		(void) set_config_option_ext(gconf->name, ss->value, ss->scontext,
									 PGC_S_SESSION, ss->srole,
									 GUC_ACTION_SET, true, WARNING, false);
	else
		(void) set_config_option_ext(gconf->name, NULL, PGC_SUSET,
									 PGC_S_SESSION, GetUserId(),
									 GUC_ACTION_SET, true, WARNING, false);
}

/*
 * Puts the caller's settings back after a file run in steps: session
 * authorization and role first (the others do not depend on who runs),
 * every other setting as saved, in the context that set it then, and
 * settings the file added (a new custom setting) reset.  Problems are
 * WARNINGs: the file's outcome is already decided.
 */
void
filelimits_restore_settings(SavedSettings *saved)
{
	static const char *const order[] = {"session_authorization", "role", NULL};

	for (int pass = 0; pass < lengthof(order); pass++)
	{
		int			nvars;
		struct config_generic **vars = mm_guc_variables(&nvars);

		for (int i = 0; i < nvars; i++)
		{
			const char *name = vars[i]->name;

			if (!is_session_setting(vars[i]) ||
				(order[pass] != NULL && strcmp(name, order[pass]) != 0) ||
				(order[pass] == NULL && (strcmp(name, order[0]) == 0 ||
										 strcmp(name, order[1]) == 0)))
				continue;
			setting_restore(vars[i],
							bsearch(name, saved->settings, saved->n,
									sizeof(SavedSetting), cmp_saved_name));
		}
	}
}

/*
 * Arms the file's statement_timeout directive as a deadline for the whole
 * file (a setting would only take effect at the caller's next statement),
 * only when it comes before the caller's own deadline.
 */
void
filelimits_arm_timeout(const MigrationScript *script, FileTimeout *ft)
{
	int			ms = script->directives.statement_timeout;

	if (ms <= 0)
		return;
	ft->outer_active = get_timeout_active(STATEMENT_TIMEOUT);
	ft->outer_fin = ft->outer_active ?
		get_timeout_finish_time(STATEMENT_TIMEOUT) : 0;
	ft->fin = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), ms);
	if (!ft->outer_active || ft->fin < ft->outer_fin)
	{
		enable_timeout_at(STATEMENT_TIMEOUT, ft->fin);
		ft->armed = true;
		file_deadline = ft->fin;
	}
}

/* Puts the caller's statement_timeout back after a file. */
void
filelimits_disarm_timeout(FileTimeout *ft)
{
	if (!ft->armed)
		return;
	file_deadline = 0;
	if (ft->outer_active)
		enable_timeout_at(STATEMENT_TIMEOUT, ft->outer_fin);
	else
		disable_timeout(STATEMENT_TIMEOUT, false);
	ft->armed = false;
}

/* Tells whether the deadline of the file running in steps has passed. */
bool
filelimits_deadline_passed(void)
{
	return file_deadline != 0 && GetCurrentTimestamp() >= file_deadline;
}
