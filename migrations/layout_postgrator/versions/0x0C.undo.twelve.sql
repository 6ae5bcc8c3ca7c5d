DELETE FROM layout_log WHERE what = '0x0C is 12';
