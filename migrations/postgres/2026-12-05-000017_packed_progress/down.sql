DELETE FROM progress_snapshots;
ALTER TABLE progress_snapshots DROP COLUMN packed_body;
ALTER TABLE progress_snapshots ADD COLUMN body TEXT NOT NULL DEFAULT '';
