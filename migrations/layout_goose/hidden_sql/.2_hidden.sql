-- +goose Up
INSERT INTO layout_log (what) VALUES ('.2_hidden');
