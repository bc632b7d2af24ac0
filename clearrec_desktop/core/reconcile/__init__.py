"""Reconciliation of the DOJ extract with the county's own records (issue 15).

``linkage`` links people and convictions across a DOJ import and a county import (scores and
the fields that made each link; links under a threshold are proposed, never merged);
``keys`` normalises names and court case numbers; ``lists`` builds the three lists (county
only, DOJ only, both but disagreeing) and screens them with the active profile.
This stage comes after screening and before the workspace: it screens, and the workspace
stores the clerk's confirmations and splits of links (workspace/links.py).
"""
