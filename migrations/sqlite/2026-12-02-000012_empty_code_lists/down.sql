-- Nothing to undo: '[]' was never a meaningful value.
SELECT 1;
