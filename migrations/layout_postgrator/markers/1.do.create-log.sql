-- Down migration (drop the log) is in the undo file
CREATE TABLE layout_log (id serial PRIMARY KEY, what text NOT NULL);
-- migrate:down
INSERT INTO layout_log (what) VALUES ('after a dbmate marker');
-- +goose Down
INSERT INTO layout_log (what) VALUES ('after a goose marker');
