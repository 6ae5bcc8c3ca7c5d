-- Up Migration
CREATE TABLE teams (
    id   integer PRIMARY KEY,
    name text NOT NULL UNIQUE
);

-- Down Migration
DROP TABLE teams;
