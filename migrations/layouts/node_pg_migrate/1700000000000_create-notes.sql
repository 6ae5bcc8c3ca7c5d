-- Up Migration
CREATE TABLE npm_notes (id serial PRIMARY KEY, body text NOT NULL);

-- Down Migration
DROP TABLE npm_notes;
