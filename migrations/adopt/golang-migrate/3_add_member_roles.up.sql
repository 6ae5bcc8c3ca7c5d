ALTER TABLE members ADD COLUMN role text NOT NULL DEFAULT 'member';
