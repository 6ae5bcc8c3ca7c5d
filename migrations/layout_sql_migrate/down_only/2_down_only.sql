--  +migrate Up
INSERT INTO layout_log (what) VALUES ('never');
-- +migrate Down
DELETE FROM layout_log;
