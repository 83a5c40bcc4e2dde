"""What the proposals feature tells others, without knowing who listens.

``proposal_released`` is sent, inside the transaction, when a person's decision (not the
matcher's) takes a proposal out of what counts against its listings' cap, or brings it back to
the review queue: a coordinator rejected it, approving another covered it, a party declined
it, declining the one that covered it brought it back, or its organisation closed and withdrew
it. The matching feature subscribes to it (matching/tasks.py) and matches each of the
proposal's listings again once that transaction commits: a listing with room under its cap
again gets the proposals a full run would give it, and a proposal back in the queue is held to
the rules as they are now (withdrawn if one of its listings closed meanwhile), instead of
leaving both to the next full run.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: Sent with the proposal as sender, after its new status is set.
proposal_released = _signals.signal("proposal-released")
