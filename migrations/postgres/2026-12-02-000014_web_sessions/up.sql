-- Sessions of the web pages: the cookie holds a random token, this table only its SHA-256.
-- A session ends at its expiry, on logout, and when the account's token version moves (a new
-- password, a disabled account), as access tokens do.
CREATE TABLE web_sessions (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_version BIGINT NOT NULL,
    -- The token every state-changing form of this session carries.
    csrf_token TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX web_sessions_user ON web_sessions (user_id);
CREATE INDEX web_sessions_expiry ON web_sessions (expires_at);
