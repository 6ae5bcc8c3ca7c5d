DROP INDEX CONCURRENTLY layout_log_what;
INSERT INTO layout_log (what) VALUES ('index dropped');
