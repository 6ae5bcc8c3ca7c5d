INSERT INTO layout_log (what) VALUES ('R without a description');
