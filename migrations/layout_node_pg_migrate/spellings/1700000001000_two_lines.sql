--
-- Up Migration
INSERT INTO layout_log (what) VALUES ('two lines');
--Down Migrations
DELETE FROM layout_log WHERE what = 'two lines';
