/* a block comment
   -- with a line comment inside */
-- and a line comment

CREATE TABLEE comments_first (id int);
