-- +goose Up
CREATE TABLE layout_log (id serial PRIMARY KEY, what text NOT NULL);
-- +goose StatementBegin
-- nothing in this block yet
-- +goose StatementEnd
INSERT INTO layout_log (what) VALUES ('after the empty block');
-- +goose Down
DROP TABLE layout_log;
