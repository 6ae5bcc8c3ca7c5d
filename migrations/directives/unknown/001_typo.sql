-- Creates a table.
--morgenmigrate: lock_timout=5s
CREATE TABLE typo (id int);
