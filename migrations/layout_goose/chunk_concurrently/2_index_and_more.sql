-- +goose NO TRANSACTION
-- +goose Up
CREATE INDEX CONCURRENTLY layout_log_what ON layout_log (what); INSERT INTO layout_log (what) VALUES ('after the index');
-- +goose Down
DROP INDEX CONCURRENTLY layout_log_what;
