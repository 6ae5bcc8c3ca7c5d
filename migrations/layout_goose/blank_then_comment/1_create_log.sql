-- +goose Up
CREATE TABLE layout_log (id serial PRIMARY KEY, what text NOT NULL);
   
-- after a line of blanks, goose keeps this comment as an unfinished statement
-- +goose Down
DROP TABLE layout_log;
