INSERT INTO layout_log (what) VALUES ('R__📊_report (U+1F4CA)');
