"""``cityhub demo``: a hub with Seoul, Tokyo and Beijing as living cities, offline.

Seoul and Tokyo replay the real feed samples shipped in ``samples/`` through the real feed
adapters, with times shifted to now and measured values gently varied; Beijing has no public
real-time feed, so its data is simulated on real Beijing places and says so. Every demo entity
carries ``demoData`` ("replayed", "varied" or "simulated") so no one mistakes it for live data.
"""
