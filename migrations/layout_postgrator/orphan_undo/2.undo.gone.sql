DELETE FROM layout_log;
