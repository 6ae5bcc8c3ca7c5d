DELETE FROM layout_log WHERE what = 'V2';
