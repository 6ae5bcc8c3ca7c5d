INSERT INTO layout_log (what) VALUES ('seed_data');
