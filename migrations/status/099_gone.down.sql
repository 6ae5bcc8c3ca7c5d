DROP TABLE status_e;
