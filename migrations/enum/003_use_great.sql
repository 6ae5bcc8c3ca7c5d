-- uses the value 002 added: needs 002 committed first
INSERT INTO standups VALUES (1, 'great');
