-- morgenmigrate: lock_timeout=soon
CREATE TABLE bad_value (id int);
