INSERT INTO layout_log (what) VALUES ('R__a_b');
