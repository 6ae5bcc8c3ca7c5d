-- Extended workspace configuration: which days, a reminder before the
-- standup, and where the daily summary goes.
ALTER TABLE workspace_config
    ADD COLUMN days text[] NOT NULL DEFAULT '{mon,tue,wed,thu,fri}',
    ADD COLUMN reminder_minutes integer NOT NULL DEFAULT 15
        CHECK (reminder_minutes BETWEEN 0 AND 240),
    ADD COLUMN summary_channel_id text;
