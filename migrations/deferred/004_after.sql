CREATE TABLE deferred_after (id int);
