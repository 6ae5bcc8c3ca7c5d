-- +migrate Up notransaction
INSERT INTO layout_log (what) VALUES ('alone');
INSERT INTO layout_log (what) VALUES ('together 1'); INSERT INTO layout_log (what) VALUES ('together 2'); SELECT 1 / 0;
-- +migrate Down
DELETE FROM layout_log;
