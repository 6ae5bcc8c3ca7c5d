-- +goose ENVSUB ON
-- +goose Up
CREATE TABLE ${TABLE_NAME} (id int);
