DROP INDEX CONCURRENTLY diesel_posts_title_idx;
