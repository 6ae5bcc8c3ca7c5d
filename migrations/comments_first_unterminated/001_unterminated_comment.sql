-- the block comment below is never closed
/* so the whole rest of the file is a comment
CREATE TABLE comments_first (id int);
