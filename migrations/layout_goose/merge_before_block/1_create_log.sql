-- +goose Up
CREATE TABLE layout_log (id serial PRIMARY KEY, what text NOT NULL);
INSERT INTO layout_log (what) VALUES ('before the block')
-- +goose StatementBegin
INSERT INTO layout_log (what) VALUES ('in the block');
-- +goose StatementEnd
-- +goose Down
DROP TABLE layout_log;
