-- Isolation fixture of the directory's proof: safe to apply again.
CREATE TABLE IF NOT EXISTS iso_proof_b (id integer);
