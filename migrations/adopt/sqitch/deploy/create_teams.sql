-- Deploy teams:create_teams to pg

BEGIN;

CREATE TABLE teams (
    id   integer PRIMARY KEY,
    name text NOT NULL UNIQUE
);

COMMIT;
