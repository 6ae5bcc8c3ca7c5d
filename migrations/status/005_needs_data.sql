-- fails until the data is fixed
SELECT 1 / (SELECT count(*) FROM status_a)::int;
