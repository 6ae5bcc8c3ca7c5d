INSERT INTO layout_log (what) VALUES ('V3 without a description');
