--
-- In one rehearsal, a lock an earlier file took is still held when a later
-- file runs, so it is listed on the earlier file only: the rehearsal says so
--
CREATE EXTENSION morgenmigrate;
CREATE SCHEMA rehearsal_locks_test;
SET search_path = rehearsal_locks_test;
CREATE TABLE teams (id int PRIMARY KEY, name text);
CREATE TABLE members (id int PRIMARY KEY, team_id int REFERENCES teams (id));

SELECT filename, status, locks
  FROM morgenmigrate.migrate_apply('@fixtures@/rehearsal_locks', dry_run => true);
-- one file alone: nothing to say
SELECT filename, status, locks
  FROM morgenmigrate.migrate_apply('@fixtures@/rehearsal_locks', dry_run => true,
                                   steps => 1);

SET client_min_messages = warning;
DROP SCHEMA rehearsal_locks_test CASCADE;
DROP EXTENSION morgenmigrate;
