
INSERT INTO layout_log (what)
 VALUES ('repeatable ran');

