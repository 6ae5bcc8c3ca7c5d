-- COPY from a file on the server is fine (the server reads it).
CREATE TABLE copied (line text);
COPY copied FROM '@fixtures@/preflight_ok/003_server_side_copy.sql';
