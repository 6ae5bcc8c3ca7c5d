-- morgenmigrate: lock_timeout=5s retries=3
-- Admin and member roles.  members is busy while the bot runs: fail fast on
-- its lock and retry rather than queue every query behind the ALTER.
ALTER TABLE members
    ADD COLUMN role text NOT NULL DEFAULT 'member'
        CHECK (role IN ('admin', 'member'));

-- The person who installed the bot administers it.
UPDATE members m
SET role = 'admin'
FROM installations i
WHERE i.team_id = m.team_id AND i.installed_by = m.user_id;
