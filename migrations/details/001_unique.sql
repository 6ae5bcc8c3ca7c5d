CREATE TABLE handles (handle text PRIMARY KEY);
INSERT INTO handles VALUES ('alice');
INSERT INTO handles VALUES ('alice');
