INSERT INTO layout_log (what) VALUES ('backfill undone');
