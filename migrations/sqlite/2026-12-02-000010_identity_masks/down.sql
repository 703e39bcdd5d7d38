-- The region digits cannot be recovered from the shorter mask: nothing to undo.
SELECT 1;
