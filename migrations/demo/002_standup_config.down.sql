ALTER TABLE workspace_config
    DROP COLUMN summary_channel_id,
    DROP COLUMN reminder_minutes,
    DROP COLUMN days;
