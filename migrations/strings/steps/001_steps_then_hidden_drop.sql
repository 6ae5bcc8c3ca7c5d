CREATE INDEX CONCURRENTLY IF NOT EXISTS victim_id_idx ON victim (id);
SELECT set_config('standard_conforming_strings', 'on', false);
SELECT 'a\'; DROP TABLE victim; --';
