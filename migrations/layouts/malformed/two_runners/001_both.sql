-- +goose Up
-- migrate:up
CREATE TABLE malformed_marker (id int);
-- +goose Down
-- migrate:down
DROP TABLE malformed_marker;
