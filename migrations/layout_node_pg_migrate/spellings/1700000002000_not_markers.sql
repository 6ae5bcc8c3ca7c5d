-- Upmigration
INSERT INTO layout_log (what) VALUES ('no marker');
