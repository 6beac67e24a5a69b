"""The simulated world's own business definitions.

These constants describe the world and the business's definitions as the retailer states them (the seed's
practice), written here from the definition and never taken from the pipeline: if both sides took their
numbers from one place, a wrong number would agree with itself.
"""

from __future__ import annotations

# Business definition of one parcel: the same customer at the same door, ordering within 30 minutes of the
# group's first order.
MERGE_WINDOW_MINUTES = 30
