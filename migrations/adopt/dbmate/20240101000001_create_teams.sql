-- migrate:up
CREATE TABLE teams (
    id   integer PRIMARY KEY,
    name text NOT NULL UNIQUE
);

-- migrate:down
DROP TABLE teams;
