ALTER TABLE shares DROP COLUMN consented_at;
ALTER TABLE shares DROP COLUMN consent_text;
ALTER TABLE shares DROP COLUMN consent_version;
