CREATE TABLE meta_t (id int);
\set ON_ERROR_STOP on
INSERT INTO meta_t VALUES (1);
