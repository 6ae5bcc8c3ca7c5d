-- a statement no transaction can hold: migrate_run's worker runs it
CREATE TABLE drift_events (id int, kind text);
CREATE INDEX CONCURRENTLY drift_events_kind ON drift_events (kind);
