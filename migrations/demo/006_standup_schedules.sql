-- Several standup schedules per workspace.  The single schedule of each
-- configured workspace becomes its first row here (a data migration);
-- workspace_config keeps its columns for the clients that still read them.
CREATE TABLE standup_schedules (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    team_id      text NOT NULL REFERENCES installations ON DELETE CASCADE,
    name         text NOT NULL,
    channel_id   text NOT NULL,
    standup_time time NOT NULL,
    timezone     text NOT NULL,
    days         text[] NOT NULL,
    questions    text[] NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (team_id, name)
);

INSERT INTO standup_schedules
    (team_id, name, channel_id, standup_time, timezone, days, questions)
SELECT team_id, 'Daily standup', channel_id, standup_time, timezone, days, questions
FROM workspace_config
WHERE channel_id IS NOT NULL AND active
ORDER BY team_id;
