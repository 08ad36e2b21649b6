DROP INDEX IF EXISTS tokens_token_hash_key;
CREATE INDEX tokens_token_hash_idx ON tokens USING hash (token_hash);
