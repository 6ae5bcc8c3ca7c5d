DELETE FROM layout_log WHERE what = 'seed_data';
