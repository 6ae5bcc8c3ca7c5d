-- Up Migration
INSERT INTO layout_log (what) VALUES ('forward');
