"""Saved searches and the alerts they send: a member keeps a search of needs, offers or
challenges under a name, and hears of each new listing that matches it."""
