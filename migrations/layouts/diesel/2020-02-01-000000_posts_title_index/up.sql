CREATE INDEX CONCURRENTLY diesel_posts_title_idx ON diesel_posts (title);
