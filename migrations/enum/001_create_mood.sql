CREATE TYPE mood AS ENUM ('ok', 'meh');
CREATE TABLE standups (id int PRIMARY KEY, mood mood);
