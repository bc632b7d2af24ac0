"""Suite-wide settings: Qt never needs a display, and no test depends on the user's files."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
