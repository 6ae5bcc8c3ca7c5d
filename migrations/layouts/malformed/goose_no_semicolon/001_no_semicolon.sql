-- +goose Up
CREATE TABLE malformed_marker (id int);
INSERT INTO malformed_marker VALUES (1)
-- +goose Down
DROP TABLE malformed_marker;
