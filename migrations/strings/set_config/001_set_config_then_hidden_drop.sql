SELECT set_config('standard_conforming_strings', 'on', false);
SELECT 'a\'; DROP TABLE victim; --';
