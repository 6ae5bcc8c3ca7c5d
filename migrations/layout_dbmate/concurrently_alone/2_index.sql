-- migrate:up transaction:false
CREATE INDEX CONCURRENTLY layout_log_what ON layout_log (what);

-- migrate:down transaction:false
DROP INDEX CONCURRENTLY layout_log_what;
