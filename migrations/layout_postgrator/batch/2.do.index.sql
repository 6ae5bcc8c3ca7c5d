INSERT INTO layout_log (what) VALUES ('beside the index');
CREATE INDEX CONCURRENTLY layout_log_what ON layout_log (what);
