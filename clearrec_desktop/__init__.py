"""ClearRec Desktop: offline screening of cannabis convictions for Prop 64 relief."""

import os

# polars' allocator (jemalloc) keeps pages it has freed for a while (half a second, then a
# second more) before handing them back to the system. An import frees and reuses hundreds of MB
# a second, so the process would hold several hundred MB it does not use: hand pages back after
# 0.1 s (measured on 3M rows: peak 986 -> 849 MB for 3% more time; docs/performance.md).
# Set before polars is first imported; a value the user set is kept.
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:100,muzzy_decay_ms:0")

__version__ = "0.1.0"
