CREATE INDEX CONCURRENTLY layout_log_what ON layout_log (what);
