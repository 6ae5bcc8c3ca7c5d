DELETE FROM layout_log WHERE what = 'second';
INSERT INTO layout_log (what) VALUES ('second undone');
