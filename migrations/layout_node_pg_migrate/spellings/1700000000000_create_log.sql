-- written by hand

--- Up Migration ---
CREATE TABLE layout_log (id serial PRIMARY KEY, what text NOT NULL);
--	DOWN	MIGRATION
DROP TABLE layout_log;
