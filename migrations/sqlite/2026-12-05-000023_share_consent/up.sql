-- A learner's separate consent to each share (PIPL Art. 23, 29): the version of the text shown,
-- the text itself (both languages), and when. Shares made before consent was recorded keep NULL.
ALTER TABLE shares ADD COLUMN consent_version TEXT;
ALTER TABLE shares ADD COLUMN consent_text TEXT;
ALTER TABLE shares ADD COLUMN consented_at TIMESTAMP;
