-- +goose Up
CREATE TABLE layout_log (id serial PRIMARY KEY, what text NOT NULL);
INSERT INTO layout_log (what) VALUES ('up ran');

-- +goose Down
INSERT INTO layout_log (what) VALUES ('down ran');
DROP TABLE layout_log
