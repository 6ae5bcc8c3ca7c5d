INSERT INTO layout_log (what) VALUES ('a version of 51 characters');
