-- migrate:up
INSERT INTO layout_log (what) VALUES ('seed');

-- migrate:down
