-- migrate:upINSERT INTO layout_log (what) VALUES ('up, after the carriage return');
-- migrate:downINSERT INTO layout_log (what) VALUES ('down, after the carriage return');
