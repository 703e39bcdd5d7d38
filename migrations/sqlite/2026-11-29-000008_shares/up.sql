-- The keys that sign shared statements (EdDSA, Ed25519). One key signs at a time; a retired key
-- stays published until the last statement it signed has expired.
CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    algorithm TEXT NOT NULL CHECK (algorithm = 'EdDSA'),
    -- base64url of the 32-byte public key
    public_key TEXT NOT NULL,
    -- the private key, encrypted under a key derived from the data key
    private_key TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    retired_at TIMESTAMP,
    -- the latest expiry of a statement it signed
    signed_until TIMESTAMP
);

-- What a learner shares, with whom and until when. The code is stored only as its SHA-256.
CREATE TABLE shares (
    id INTEGER PRIMARY KEY,
    learner_id BIGINT NOT NULL REFERENCES learners (id),
    code_hash TEXT NOT NULL UNIQUE,
    purpose TEXT NOT NULL,
    recipient_institution_id BIGINT REFERENCES institutions (id),
    -- JSON arrays: certificate ids and milestone keys
    certificate_ids TEXT NOT NULL,
    milestone_keys TEXT NOT NULL,
    kid TEXT NOT NULL REFERENCES signing_keys (kid),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX shares_learner ON shares (learner_id, id);

-- Every look at a learner's verified records by HR: through a share, or as their employer.
CREATE TABLE share_accesses (
    id INTEGER PRIMARY KEY,
    learner_id BIGINT NOT NULL REFERENCES learners (id),
    share_id BIGINT REFERENCES shares (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    institution_id BIGINT REFERENCES institutions (id),
    basis TEXT NOT NULL CHECK (basis IN ('share', 'employment')),
    accessed_at TIMESTAMP NOT NULL
);
CREATE INDEX share_accesses_learner ON share_accesses (learner_id, id);
CREATE INDEX share_accesses_share ON share_accesses (share_id, accessed_at);
