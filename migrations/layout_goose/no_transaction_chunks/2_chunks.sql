-- +goose NO TRANSACTION
-- +goose Up
INSERT INTO layout_log (what) VALUES ('own chunk');
INSERT INTO layout_log (what) VALUES ('shares a line'); INSERT INTO layout_log (what) VALUES ('with a failure ' || 1 / 0);
-- +goose Down
DELETE FROM layout_log;
