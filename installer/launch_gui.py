"""PyInstaller entry script for the windowed ``ClearRec Desktop`` executable.

PyInstaller needs a script file rather than a ``module:function`` entry point; this one does
nothing but call the same function as the ``clearrec-desktop`` console script.
"""

from clearrec_desktop.gui.app import main

raise SystemExit(main())
