INSERT INTO layout_log (what) VALUES ('R__ without a description');
