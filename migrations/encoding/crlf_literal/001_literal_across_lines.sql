-- a string literal across a line end, written on Windows
CREATE TABLE crlf_kept (value text);
INSERT INTO crlf_kept VALUES ('line one
line two');
