"""Demo accounts. The organisations and listings are in seed.json (the interchange format),
written from the four seed cases in shared/seeds/.

The lead organisations and their people are the ones the seed texts name. Where a case speaks
of partners only in general ("social enterprises", "partner NGOs"), the demo gives them plain
descriptive names marked as illustrative.
"""

from __future__ import annotations

from pathlib import Path

DEMO_PASSWORD = "demo-password"
SEED_FILE = Path(__file__).with_name("seed.json")

STAFF = [
    {"email": "admin@example.org", "name": "Ada Admin", "role": "admin"},
    {"email": "coordinator@example.org", "name": "Chris Coordinator", "role": "coordinator"},
]

# Who owns each demo organisation (by its ref in seed.json).
OWNERS = {
    "uol": ("alan.southern@example.org", "Alan Southern"),
    "sen": ("rosie.jolly@example.org", "Rosie Jolly"),
    "lcm": ("mayor.office@example.org", "Mayor's office (demo)"),
    "athens": ("athens@example.org", "City of Athens (demo)"),
    "tua": ("gabriel.amitsis@example.org", "Gabriel Amitsis"),
    "athens-wisc": ("athens.coop@example.org", "Eleni (demo)"),
    "athens-sin": ("attica.hub@example.org", "Nikos (demo)"),
    "ttah": ("mohamed.ziad@example.org", "Mohamed Ziad"),
    "ttah-assoc": ("tangier.assoc@example.org", "Samira (demo)"),
    "sp": ("saopaulo@example.org", "São Paulo (demo)"),
    "sp-incubator": ("sp.incubator@example.org", "Ana (demo)"),
    "sp-state": ("sp.state@example.org", "Purchasing programme (demo)"),
    "sp-sewing": ("sp.sewing@example.org", "Lúcia (demo)"),
    "sp-kitchen": ("sp.kitchen@example.org", "Marcos (demo)"),
    "ttah-centre": ("ttah.centre@example.org", "Youssef (demo)"),
    "ttah-coop": ("ttah.coop@example.org", "Fatima (demo)"),
    "ttah-council": ("ttah.council@example.org", "Council secretariat (demo)"),
}
