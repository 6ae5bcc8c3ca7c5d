-- Core tables of the standup bot: one installation per chat workspace, its
-- configuration, its members and their daily standups.
CREATE TABLE installations (
    team_id      text PRIMARY KEY,
    team_name    text NOT NULL,
    bot_token    text NOT NULL,
    bot_user_id  text NOT NULL,
    installed_by text NOT NULL,
    installed_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE workspace_config (
    team_id      text PRIMARY KEY REFERENCES installations ON DELETE CASCADE,
    channel_id   text,
    standup_time time NOT NULL DEFAULT '09:30',
    timezone     text NOT NULL DEFAULT 'UTC',
    questions    text[] NOT NULL DEFAULT ARRAY[
        'What did you do yesterday?',
        'What will you do today?',
        'Anything blocking you?'],
    active       boolean NOT NULL DEFAULT true
);

CREATE TABLE members (
    team_id   text NOT NULL REFERENCES installations ON DELETE CASCADE,
    user_id   text NOT NULL,
    real_name text,
    tz        text,
    active    boolean NOT NULL DEFAULT true,
    PRIMARY KEY (team_id, user_id)
);

CREATE TABLE standups (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    team_id      text NOT NULL,
    user_id      text NOT NULL,
    standup_date date NOT NULL,
    yesterday    text,
    today        text,
    blockers     text,
    submitted_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (team_id, user_id) REFERENCES members ON DELETE CASCADE,
    UNIQUE (team_id, user_id, standup_date)
);

CREATE INDEX standups_team_date_idx ON standups (team_id, standup_date);
