DROP INDEX tokens_valid_idx;
CREATE INDEX tokens_valid_idx ON tokens (user_email, expires_at)
    WHERE revoked = 0 AND expired = 0;

CREATE INDEX tokens_unmarked_expires_at_idx ON tokens (expires_at) WHERE NOT expired;
