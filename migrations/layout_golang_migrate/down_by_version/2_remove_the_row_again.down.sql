DELETE FROM layout_log WHERE what = '2 up';
