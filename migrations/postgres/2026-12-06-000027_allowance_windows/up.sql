-- The windows of the limits on failed logins, unknown share codes and password-reset requests,
-- shared by every replica (a per-process count would loosen each limit by the number of
-- replicas). The key is a keyed hash of what is counted (an account, a client's address), never
-- the value itself; a window is deleted once it has ended.
CREATE TABLE allowance_windows (
    key TEXT PRIMARY KEY NOT NULL,
    used INTEGER NOT NULL,
    ends_at TIMESTAMP NOT NULL
);
CREATE INDEX allowance_windows_ends_at ON allowance_windows (ends_at);
