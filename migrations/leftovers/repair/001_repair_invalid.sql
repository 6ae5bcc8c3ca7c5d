-- PostgreSQL's documented repair of an INVALID index
REINDEX INDEX CONCURRENTLY gadgets_code_key;
