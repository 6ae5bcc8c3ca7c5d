CREATE OR REPLACE VIEW team_sizes AS
    SELECT team_id, count(*) AS members FROM members GROUP BY team_id;
