-- +goose Up
CREATE TABLE malformed_marker (id int);
