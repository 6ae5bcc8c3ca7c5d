-- Members belong to a team.
CREATE TABLE members (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    team_id bigint NOT NULL REFERENCES teams (id),
    email   text NOT NULL
);

CREATE INDEX members_team_id_idx ON members (team_id);
