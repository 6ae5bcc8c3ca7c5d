-- +goose Up
CREATE TABLE teams (
    id   integer PRIMARY KEY,
    name text NOT NULL UNIQUE
);

-- +goose Down
DROP TABLE teams;
