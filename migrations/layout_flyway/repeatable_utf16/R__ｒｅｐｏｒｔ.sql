INSERT INTO layout_log (what) VALUES ('R__ｒｅｐｏｒｔ (U+FF52)');
