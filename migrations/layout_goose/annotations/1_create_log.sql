-- comments before the up section are allowed
--+goose up
CREATE TABLE layout_log (id serial PRIMARY KEY, what text NOT NULL);
-- +GOOSE Down is no annotation: this stays in the up section
INSERT INTO layout_log (what) VALUES ('still up');
-- +goose statementbegin
INSERT INTO layout_log (what) VALUES ('block 1');
INSERT INTO layout_log (what) VALUES ('block 2')
-- +goose STATEMENTEND
-- +goose DOWN
DROP TABLE layout_log;
