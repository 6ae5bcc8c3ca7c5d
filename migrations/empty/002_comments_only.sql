-- nothing to do yet
/* a block comment
   over two lines */
