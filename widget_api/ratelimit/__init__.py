"""Per-client request limits shared by every API process (counters in the database)."""
