-- Outbound event delivery: each workspace may register webhooks.
CREATE TABLE webhooks (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    team_id    text NOT NULL REFERENCES installations ON DELETE CASCADE,
    url        text NOT NULL CHECK (url ~ '^https://'),
    secret     text NOT NULL,
    events     text[] NOT NULL DEFAULT '{standup.submitted}',
    active     boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX webhooks_team_idx ON webhooks (team_id) WHERE active;
