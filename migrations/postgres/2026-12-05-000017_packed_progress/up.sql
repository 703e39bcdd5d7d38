-- Progress snapshots are stored deflated (see src/services/eligibility/packed_body.rs): a few
-- hundred bytes to two kilobytes kept inline in the row (EXTERNAL: PostgreSQL does not try to
-- compress them again), where the JSON of several kilobytes was compressed into TOAST and
-- decompressed by every read. Snapshots are derived data: they are dropped here and computed
-- again on the next read or by the nightly pass.
DELETE FROM progress_snapshots;
ALTER TABLE progress_snapshots DROP COLUMN body;
ALTER TABLE progress_snapshots ADD COLUMN packed_body BYTEA NOT NULL;
ALTER TABLE progress_snapshots ALTER COLUMN packed_body SET STORAGE EXTERNAL;
