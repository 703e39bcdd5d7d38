-- Progress snapshots are stored deflated (see src/services/eligibility/packed_body.rs): a few
-- hundred bytes to two kilobytes that stay within the row's page, where the JSON of several
-- kilobytes ran onto overflow pages that every read followed. Snapshots are derived data: they
-- are dropped here and computed again on the next read or by the nightly pass.
DELETE FROM progress_snapshots;
ALTER TABLE progress_snapshots DROP COLUMN body;
ALTER TABLE progress_snapshots ADD COLUMN packed_body BLOB NOT NULL DEFAULT x'';
