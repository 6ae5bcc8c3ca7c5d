-- morgenmigrate: allow-locked-rewrite=yes
CREATE TABLE rewrite_value (id int);
