-- +goose Up
INSERT INTO layout_log (what) VALUES ('seed');
