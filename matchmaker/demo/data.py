"""Demo organisations and people, written from the four seed cases in shared/seeds/.

The four lead organisations and their people are the ones the seed texts name. Where a case
speaks of partners only in general ("social enterprises", "partner NGOs"), the demo gives them
plain descriptive names and marks them as illustrative.
"""

from __future__ import annotations

DEMO_PASSWORD = "demo-password"

STAFF = [
    {"email": "admin@example.org", "name": "Ada Admin", "role": "admin"},
    {"email": "coordinator@example.org", "name": "Chris Coordinator", "role": "coordinator"},
]

ORGANISATIONS = [
    {
        "ref": "uol",
        "name": "University of Liverpool – Heseltine Institute for Public Policy and Practice",
        "kind": "academic_institution",
        "description": (
            "The Heseltine Institute brings academics and practitioners together on public "
            "policy for the Liverpool City Region, including a performative research agenda on "
            "the social economy that places people who work in it at the centre of knowledge "
            "exchange, policy and practice."
        ),
        "website": "https://www.liverpool.ac.uk/heseltine-institute/",
        "city": "Liverpool",
        "region": "Liverpool City Region",
        "country": "GB",
        "contacts": [
            {
                "name": "Alan Southern",
                "position": "Co-Director of Heseltine Institute for Public Policy and Practice, "
                "University of Liverpool",
                "email": "alan.southern@example.org",
            }
        ],
        "owner": {"email": "alan.southern@example.org", "name": "Alan Southern"},
    },
    {
        "ref": "sen",
        "name": "Social Enterprise Network",
        "kind": "sse_organisation",
        "description": (
            "The network of social enterprises in the Liverpool City Region. It works closely "
            "with the Liverpool City Mayor's office to shape the strategic direction of the "
            "city-region's social and solidarity economy."
        ),
        "website": None,
        "city": "Liverpool",
        "region": "Liverpool City Region",
        "country": "GB",
        "contacts": [
            {
                "name": "Rosie Jolly",
                "position": "Mayoral Lead for Social & Community Enterprise / Chief Executive",
                "email": "rosie.jolly@example.org",
            }
        ],
        "owner": {"email": "rosie.jolly@example.org", "name": "Rosie Jolly"},
    },
    {
        "ref": "lcm",
        "name": "Liverpool City Mayor's Office",
        "kind": "public_agency",
        "description": (
            "The office of the Mayor of Liverpool, working with the Social Enterprise Network "
            "and the Heseltine Institute on a local strategy for the social economy: new "
            "ideas, social innovation, wealth generation and a fairer distribution of resources."
        ),
        "website": "https://liverpool.gov.uk/",
        "city": "Liverpool",
        "region": "Liverpool City Region",
        "country": "GB",
        "contacts": [
            {
                "name": "Social economy lead",
                "position": "Mayor's office",
                "email": "mayor.office@example.org",
            }
        ],
        "owner": {"email": "mayor.office@example.org", "name": "Mayor's office (demo)"},
    },
    {
        "ref": "athens",
        "name": "City of Athens",
        "kind": "public_agency",
        "description": (
            "Since 2013 the City of Athens implements a Local Strategy on Social Innovation and "
            "Entrepreneurship, building local Active Inclusion Partnerships for people at high "
            "risk of poverty with social and solidarity economy actors, supported by national "
            "and EU resources and shaped by an open public consultation."
        ),
        "website": "https://www.cityofathens.gr/",
        "city": "Athens",
        "region": "Attica",
        "country": "GR",
        "contacts": [
            {
                "name": "Social innovation office",
                "position": "City of Athens",
                "email": "athens@example.org",
            }
        ],
        "owner": {"email": "athens@example.org", "name": "City of Athens (demo)"},
    },
    {
        "ref": "tua",
        "name": "Technology University of Athens",
        "kind": "academic_institution",
        "description": (
            "The university supported the City of Athens in designing its Local Strategy on "
            "Social Innovation and Entrepreneurship, bringing expertise in social security law "
            "and social policy for active inclusion."
        ),
        "website": None,
        "city": "Athens",
        "region": "Attica",
        "country": "GR",
        "contacts": [
            {
                "name": "Gabriel Amitsis",
                "position": "Associate Professor of Social Security Law",
                "email": "gabriel.amitsis@example.org",
            }
        ],
        "owner": {"email": "gabriel.amitsis@example.org", "name": "Gabriel Amitsis"},
    },
    {
        "ref": "athens-wisc",
        "name": "Athens Work Integration Social Cooperative (illustrative)",
        "kind": "sse_organisation",
        "description": (
            "A social cooperative that employs and trains people at high risk of poverty in "
            "catering and cleaning services, one of the social enterprises the Athens strategy "
            "networks with the Municipality."
        ),
        "website": None,
        "city": "Athens",
        "region": "Attica",
        "country": "GR",
        "contacts": [
            {"name": "Eleni (demo)", "position": "Coordinator", "email": "athens.coop@example.org"}
        ],
        "owner": {"email": "athens.coop@example.org", "name": "Eleni (demo)"},
    },
    {
        "ref": "athens-sin",
        "name": "Attica Social Innovation Hub (illustrative)",
        "kind": "sse_organisation",
        "description": (
            "A social enterprise that incubates new social enterprises and runs social "
            "innovation labs with residents of Athens neighbourhoods."
        ),
        "website": None,
        "city": "Athens",
        "region": "Attica",
        "country": "GR",
        "contacts": [
            {"name": "Nikos (demo)", "position": "Director", "email": "attica.hub@example.org"}
        ],
        "owner": {"email": "attica.hub@example.org", "name": "Nikos (demo)"},
    },
    {
        "ref": "ttah",
        "name": "Région Tanger-Tetouan-Al Hoceima",
        "kind": "public_agency",
        "description": (
            "The regional government develops a territorial SSE strategy: a regional SSE "
            "platform gathering public, territorial, civil society and private sector "
            "institutions, and information and tools for SSE project developers and for the "
            "organisations that make SSE policy."
        ),
        "website": None,
        "city": "Tangier",
        "region": "Tanger-Tetouan-Al Hoceima",
        "country": "MA",
        "contacts": [
            {
                "name": "Mohamed Ziad",
                "position": "Région Tanger-Tetouan-Al Hoceima",
                "email": "mohamed.ziad@example.org",
            }
        ],
        "owner": {"email": "mohamed.ziad@example.org", "name": "Mohamed Ziad"},
    },
    {
        "ref": "ttah-assoc",
        "name": "Tangier Association of SSE Project Developers (illustrative)",
        "kind": "civil_society",
        "description": (
            "An association that supports SSE project developers in the region with training, "
            "entrepreneurial skills and trust-building between cooperatives."
        ),
        "website": None,
        "city": "Tangier",
        "region": "Tanger-Tetouan-Al Hoceima",
        "country": "MA",
        "contacts": [
            {"name": "Samira (demo)", "position": "President", "email": "tangier.assoc@example.org"}
        ],
        "owner": {"email": "tangier.assoc@example.org", "name": "Samira (demo)"},
    },
    {
        "ref": "sp",
        "name": "Municipality of São Paulo",
        "kind": "public_agency",
        "description": (
            "São Paulo runs a solidarity economy strategy for inclusion and revenue generation: "
            "incubation, market access through public purchasing, training and technical and "
            "professional advice, and the \u201cSão Paulo Open Arms\u201d programme of housing, "
            "food and work for people in social vulnerability."
        ),
        "website": "https://www.prefeitura.sp.gov.br/",
        "city": "São Paulo",
        "region": "São Paulo",
        "country": "BR",
        "contacts": [
            {
                "name": "Solidarity economy office",
                "position": "Municipality of São Paulo",
                "email": "saopaulo@example.org",
            }
        ],
        "owner": {"email": "saopaulo@example.org", "name": "São Paulo (demo)"},
    },
    {
        "ref": "sp-incubator",
        "name": "São Paulo Solidarity Economy Incubator (illustrative NGO)",
        "kind": "civil_society",
        "description": (
            "A partner NGO of the municipality that incubates solidarity economy enterprises "
            "and gives them training and technical and professional advice."
        ),
        "website": None,
        "city": "São Paulo",
        "region": "São Paulo",
        "country": "BR",
        "contacts": [
            {
                "name": "Ana (demo)",
                "position": "Incubation lead",
                "email": "sp.incubator@example.org",
            }
        ],
        "owner": {"email": "sp.incubator@example.org", "name": "Ana (demo)"},
    },
]
