-- +migrate Up
INSERT INTO layout_log (what) VALUES ('forward');
