SET standard_conforming_strings = on;
SELECT 'a\'; DROP TABLE victim; --';
