-- +goose Up
CREATE TABLE malformed_marker (id int);
-- +goose Down
DROP TABLE malformed_marker;
