DROP TABLE gm_teams;
