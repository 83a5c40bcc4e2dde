"""The audit trail's pages for coordinators (the events themselves are core/audit.py's)."""
