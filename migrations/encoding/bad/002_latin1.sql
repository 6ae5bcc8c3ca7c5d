-- latin-1, not UTF-8

INSERT INTO utf8_ok VALUES (1); -- café
