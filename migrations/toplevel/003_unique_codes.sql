-- Fails while two events share a code; what committed before it stays.
CREATE TABLE IF NOT EXISTS code_audit (code text);

CREATE UNIQUE INDEX CONCURRENTLY events_code_key
    ON events (code);
