"""Murmurations profiles: verified organisations and live listings as JSON documents that the
Murmurations index and its aggregators (other SSE maps) read, and the command that tells an
index node where they are."""
