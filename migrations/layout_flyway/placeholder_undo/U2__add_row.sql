DELETE FROM layout_log WHERE what = 'V2';
INSERT INTO layout_log (what) VALUES ('${kept} undone as written');
