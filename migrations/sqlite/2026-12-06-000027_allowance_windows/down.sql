DROP TABLE allowance_windows;
