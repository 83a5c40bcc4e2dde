"""What the listings feature tells others, without knowing who listens.

``listing_changed`` is sent, inside the transaction, whenever a listing is posted, edited,
paused, reopened or closed; the matching feature subscribes to it (matching/tasks.py) and
matches the listing once that transaction commits, and saved searches (alerts/tasks.py) tell
their owners of a listing posted or reopened.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: Sent with the listing as sender, after its change is flushed (it has an id), and
#: ``change``: "create", "update", "pause", "reopen" or "close"; ``live_before`` (whether
#: matching considered it: open, not expired, its organisation verified; False for "create") and
#: ``themes_before`` (the slugs of its themes before, none for "create") and ``words_before``
#: (its stored words before an edit, Listing.match_words; None when they cannot have changed):
#: what the listing was before the change.
listing_changed = _signals.signal("listing-changed")
