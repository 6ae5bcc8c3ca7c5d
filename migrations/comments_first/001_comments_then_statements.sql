-- A file that opens with comments: /* not a block comment here,
/* but this is one /* that nests */ and goes
   over several lines */

CREATE TABLE comments_first (id int);
-- the next statement names a column that does not exist (line 8)
SELECT
    no_such_column
  FROM comments_first;
