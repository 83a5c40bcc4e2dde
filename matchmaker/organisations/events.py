"""What the organisations feature tells others, without knowing who listens.

``organisation_changed`` is sent, inside the transaction, when what the matcher reads of an
organisation changed: it was verified (its listings can be matched from now on), rejected after
being verified, or its verified identity changes were accepted, or its owner edited what is
applied at once (description, language, place), or it closed (privacy/erasure.py). The matching
feature subscribes to it (matching/tasks.py) and matches each of the organisation's open
listings again once that transaction commits, as it does for a listing that changed, instead of
leaving the proposals as they were until the next full run.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: Sent with the organisation as sender, after its change is flushed, and what the matcher
#: read of it before: ``verified_before`` (whether it was verified) and ``place_before`` (its
#: country, region, city, geonames_id and subdivision, as a dict).
organisation_changed = _signals.signal("organisation-changed")
