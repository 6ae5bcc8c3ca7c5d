INSERT INTO layout_log (what) VALUES ('seed.sql ran');
