INSERT INTO layout_log (what) VALUES ('${kept} as written');
