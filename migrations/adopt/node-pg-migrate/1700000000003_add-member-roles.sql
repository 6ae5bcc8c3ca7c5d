-- Up Migration
ALTER TABLE members ADD COLUMN role text NOT NULL DEFAULT 'member';
CREATE VIEW team_sizes AS
    SELECT team_id, count(*) AS members FROM members GROUP BY team_id;

-- Down Migration
DROP VIEW team_sizes;
ALTER TABLE members DROP COLUMN role;
