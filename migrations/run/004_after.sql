CREATE TABLE after_jobs (id int);
