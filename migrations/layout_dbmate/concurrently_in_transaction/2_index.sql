-- migrate:up transaction:FALSE
CREATE INDEX CONCURRENTLY layout_log_what ON layout_log (what);

-- migrate:down
DROP INDEX layout_log_what;
