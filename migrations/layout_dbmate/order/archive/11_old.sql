-- migrate:up
INSERT INTO layout_log (what) VALUES ('archive');

-- migrate:down
