"""Pure computation for NRW Site Finder: CRS rules, the analysis grid, indicators and scoring.

Nothing in this package reads files, talks to the network or imports web frameworks.
"""
