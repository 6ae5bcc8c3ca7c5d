-- A plain CREATE INDEX blocks writes to teams (SHARE lock).
CREATE INDEX teams_name_idx ON teams (name);
