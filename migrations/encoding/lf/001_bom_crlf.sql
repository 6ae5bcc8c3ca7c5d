-- written on Windows
CREATE TABLE encoded (name text);
INSERT INTO encoded VALUES ('café');
