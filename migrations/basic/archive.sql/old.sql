SELECT 1/0; -- a directory named *.sql is ignored
