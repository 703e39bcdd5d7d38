DROP TABLE share_accesses;
DROP TABLE shares;
DROP TABLE signing_keys;
