INSERT INTO npm_notes (body, author) VALUES ('hello', 'ann');
