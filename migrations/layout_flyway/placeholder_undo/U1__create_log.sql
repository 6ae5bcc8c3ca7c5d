-- undone by ${flyway:user}
DROP TABLE layout_log;
