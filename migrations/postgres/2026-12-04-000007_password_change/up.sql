-- Set by an admin password reset: the account may only change its password
-- until it does.
ALTER TABLE users ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT FALSE;
