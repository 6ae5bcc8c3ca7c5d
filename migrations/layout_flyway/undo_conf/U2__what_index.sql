DROP INDEX layout_log_what;
INSERT INTO layout_log (what) VALUES ('index dropped');
