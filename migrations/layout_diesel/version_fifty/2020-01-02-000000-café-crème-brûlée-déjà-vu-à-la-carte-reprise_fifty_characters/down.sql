DELETE FROM layout_log WHERE what = 'a version of 50 characters';
