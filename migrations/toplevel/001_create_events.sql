CREATE TABLE events (id int PRIMARY KEY, code text, body text);
INSERT INTO events SELECT g, 'code-' || g, repeat('x', 20) FROM generate_series(1, 1000) g;
-- one code twice: a unique index on code cannot be built yet
INSERT INTO events VALUES (1001, 'code-7', 'again');
