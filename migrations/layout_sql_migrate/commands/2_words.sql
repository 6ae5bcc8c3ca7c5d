-- +migrate Up
-- Up migration: a comment to both
INSERT INTO layout_log (what) VALUES ('words');
--  +migrate Down
-- Down Migration
-- +migrate Down -- the way back
DELETE FROM layout_log WHERE what = 'words';
