"""Announcements: funding calls, training, procurement notices and events for members."""
