-- Deploy teams:create_members to pg

BEGIN;

CREATE TABLE members (
    id      integer PRIMARY KEY,
    team_id integer NOT NULL REFERENCES teams,
    email   text NOT NULL
);
CREATE INDEX members_team_id_idx ON members (team_id);

COMMIT;
