CREATE TABLE gm_teams (id int PRIMARY KEY);
