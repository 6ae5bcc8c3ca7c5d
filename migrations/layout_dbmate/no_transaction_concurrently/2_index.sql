-- migrate:up transaction:false
INSERT INTO layout_log (what) VALUES ('beside the index');
CREATE INDEX CONCURRENTLY layout_log_what ON layout_log (what);

-- migrate:down transaction:false
DROP INDEX CONCURRENTLY layout_log_what;
