-- waits for the gate, so that another session's DDL runs while this file runs
LOCK TABLE iso_drift_gate;
CREATE TABLE iso_drift_migrated (id int);
