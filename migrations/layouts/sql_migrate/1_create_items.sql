-- +migrate Up
CREATE TABLE sqlm_items (id int PRIMARY KEY, label text);

-- +migrate Down
DROP TABLE sqlm_items;
