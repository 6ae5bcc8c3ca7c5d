-- migrate:down
DROP TABLE layout_log;
