"""The offline double of the platform: a deterministic synthetic world and an HTTP site that serves it.

    from sandbox import World, serve

    world = World.build(videos=500, seed=7)
    with serve(world, faults="429:0.1,5xx:0.05", fault_seed=1) as site:
        site.base_url        # http://127.0.0.1:PORT — the home page, /api/…, /@handle/video/ID, /media/ID.mp4
        site.stats           # requests, faults and statuses served so far

The world draws its counts with ``synth``; nothing in the product path imports
this package (only ``curate``'s demo and the tests do).
"""

from sandbox.faults import BLOCKING, FAULT_KINDS, TRANSIENT, FaultPlan
from sandbox.media import DEFAULT_CACHE_DIR, TEMPLATES, MediaSpec, MediaStore
from sandbox.site import Site, serve
from sandbox.world import UnknownVideo, World, WorldSpec

__all__ = [
    "BLOCKING", "DEFAULT_CACHE_DIR", "FAULT_KINDS", "TEMPLATES", "TRANSIENT",
    "FaultPlan", "MediaSpec", "MediaStore", "Site", "UnknownVideo", "World", "WorldSpec", "serve",
]
