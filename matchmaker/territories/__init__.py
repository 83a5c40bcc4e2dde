"""Territories: regions with their own platform (a public page, coordinators, a default
language, announcements), each a set of ISO 3166-2 subdivisions and GeoNames cities."""
