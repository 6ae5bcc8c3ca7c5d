DROP TABLE iso_gadgets;
