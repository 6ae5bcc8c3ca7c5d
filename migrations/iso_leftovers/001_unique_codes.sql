-- Isolation fixture: an unnamed unique build, named iso_codes_code_idx
-- (or iso_codes_code_idx1 when that name is taken), failing while two
-- rows share a code.
CREATE UNIQUE INDEX CONCURRENTLY ON iso_codes (code);
