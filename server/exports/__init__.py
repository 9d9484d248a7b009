"""Briefing outputs: print maps (PNG/SVG/PDF), slide decks, offline HTML, and batch export."""
