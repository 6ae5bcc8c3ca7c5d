-- A new table blocks nobody; reading teams takes ACCESS SHARE.
CREATE TABLE team_stats AS SELECT count(*) AS n FROM teams;
