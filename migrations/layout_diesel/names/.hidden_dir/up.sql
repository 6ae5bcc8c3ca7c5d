INSERT INTO layout_log (what) VALUES ('.hidden_dir');
