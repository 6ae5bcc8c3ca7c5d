-- golang-migrate style: NAME.up.sql with NAME.down.sql
CREATE TABLE members (id int PRIMARY KEY, team_id int REFERENCES teams (id));
