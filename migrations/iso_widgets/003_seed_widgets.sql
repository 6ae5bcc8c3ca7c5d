INSERT INTO iso_widgets (id, name, color) VALUES (1, 'sprocket', 'red'), (2, 'cog', 'blue');
