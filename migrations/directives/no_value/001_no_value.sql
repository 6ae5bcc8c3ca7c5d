-- morgenmigrate: retries
CREATE TABLE no_value (id int);
