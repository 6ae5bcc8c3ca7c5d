INSERT INTO layout_log (what) VALUES ('other_keys');
