-- no down file: this one can only be rolled back by a restore
CREATE TABLE audit (id int);
