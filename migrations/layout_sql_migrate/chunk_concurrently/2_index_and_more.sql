-- +migrate Up notransaction
CREATE INDEX CONCURRENTLY layout_log_what ON layout_log (what); INSERT INTO layout_log (what) VALUES ('index');
-- +migrate Down
DROP INDEX layout_log_what;
