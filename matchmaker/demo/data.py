"""Demo accounts. The organisations and listings are in seed.json (the interchange format),
written from the four seed cases in shared/seeds/.

The lead organisations and their people are the ones the seed texts name. Where a case speaks
of partners only in general ("social enterprises", "partner NGOs"), the demo gives them plain
descriptive names marked as illustrative.
"""

from __future__ import annotations

from dataclasses import dataclass
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

# The four seed cases' territories, each with a territorial coordinator (who sees only its
# organisations). Liverpool City Region is no ISO subdivision: its boroughs' towns are listed by
# GeoNames id (Liverpool, Birkenhead, Wallasey, Bootle, Southport, Huyton, Kirkby, Prescot,
# St Helens, Widnes, Runcorn).


@dataclass(frozen=True)
class DemoTerritory:
    slug: str
    name: str
    language: str
    subdivisions: tuple[str, ...]
    geonames_ids: tuple[int, ...]
    coordinator: tuple[str, str]  # email, name


TERRITORIES = [
    DemoTerritory(
        "liverpool-city-region",
        "Liverpool City Region",
        "en",
        (),
        (
            *(2644210, 2655613, 2634873, 2655198, 2637343, 2646329),
            *(2645313, 2639928, 2638785, 2633954, 2638960),
        ),
        ("lcr.coordinator@example.org", "Liverpool City Region coordinator (demo)"),
    ),
    DemoTerritory(
        "attica",
        "Attica",
        "el",
        ("GR-I",),
        (),
        ("attica.coordinator@example.org", "Συντονίστρια Αττικής (demo)"),
    ),
    DemoTerritory(
        "tanger-tetouan-al-hoceima",
        "Tanger-Tetouan-Al Hoceima",
        "ar",
        ("MA-01",),
        (),
        ("ttah.coordinator@example.org", "Coordinatrice TTAH (demo)"),
    ),
    DemoTerritory(
        "sao-paulo",
        "São Paulo",
        "pt",
        ("BR-SP",),
        (),
        ("sp.coordinator@example.org", "Coordenadora São Paulo (demo)"),
    ),
]
