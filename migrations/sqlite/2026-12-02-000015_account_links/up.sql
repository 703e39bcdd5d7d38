-- One-time links that let a person in: an invitation to activate a learner's account, or a
-- password reset. The link holds a random token; this table only its SHA-256. A link is used
-- once, expires, and is retired when a newer one of the same purpose is used.
CREATE TABLE account_links (
    token_hash TEXT PRIMARY KEY,
    -- 'invitation' (for a learner without an account) or 'password_reset' (for an account).
    purpose TEXT NOT NULL,
    learner_id BIGINT REFERENCES learners (id) ON DELETE CASCADE,
    user_id BIGINT REFERENCES users (id) ON DELETE CASCADE,
    -- The address the link was sent to: an invitation is void once the learner's address changes.
    email TEXT NOT NULL,
    created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX account_links_learner ON account_links (learner_id);
CREATE INDEX account_links_user ON account_links (user_id);
CREATE INDEX account_links_expiry ON account_links (expires_at);

-- The email of such a link carries its token, sealed under the data key until the email is
-- sent (then cleared): the database never holds a usable link in the clear.
ALTER TABLE notification_outbox ADD COLUMN secret TEXT;
