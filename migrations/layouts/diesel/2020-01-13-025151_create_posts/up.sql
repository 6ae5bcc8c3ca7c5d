CREATE TABLE diesel_posts (id serial PRIMARY KEY, title text NOT NULL, updated_at timestamptz);
