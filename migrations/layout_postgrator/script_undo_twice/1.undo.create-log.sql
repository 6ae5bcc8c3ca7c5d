DROP TABLE layout_log;
