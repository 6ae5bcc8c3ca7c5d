-- +goose Up
CREATE TABLE goose_go_events (id int PRIMARY KEY);
-- +goose Down
DROP TABLE goose_go_events;
