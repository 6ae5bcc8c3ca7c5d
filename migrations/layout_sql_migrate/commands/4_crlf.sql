-- +migrate Up
INSERT INTO layout_log (what)
    VALUES ('crlf');
-- +migrate Down
DELETE FROM layout_log WHERE what = 'crlf';
