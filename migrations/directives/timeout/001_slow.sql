-- morgenmigrate: statement_timeout=200ms
-- a file that runs longer than its own limit

SELECT pg_sleep(0.1);
SELECT pg_sleep(30);
