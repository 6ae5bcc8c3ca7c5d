-- morgenmigrate: retries=1000
CREATE TABLE bad_retries (id int);
