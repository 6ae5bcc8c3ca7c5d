INSERT INTO layout_log (what) VALUES ('a version of 50 characters');
