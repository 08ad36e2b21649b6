ALTER TABLE tokens RESET (fillfactor);

DROP INDEX tokens_token_hash_idx;
CREATE UNIQUE INDEX tokens_token_hash_key ON tokens (token_hash);

DROP INDEX tokens_valid_idx;
CREATE INDEX tokens_valid_idx ON tokens (user_email, expires_at)
    WHERE revoked = FALSE AND expired = FALSE;

CREATE INDEX tokens_unmarked_expires_at_idx ON tokens (expires_at, id) WHERE NOT expired;
