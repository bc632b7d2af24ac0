"""ClearRec Desktop: offline screening of cannabis convictions for Prop 64 relief."""

import os

# polars' allocator (jemalloc) keeps pages it has freed for a while before handing them back to
# the system. An import frees and reuses hundreds of MB per block, so the process would look
# (and, to other programs, be) far larger than what it uses: give pages back once they are idle.
# Set before polars is first imported; a value the user set is kept.
os.environ.setdefault("_RJEM_MALLOC_CONF", "muzzy_decay_ms:0")

__version__ = "0.1.0"
