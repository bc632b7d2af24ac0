"""PyInstaller entry script for the console ``clearrec`` executable (the command line)."""

from clearrec_desktop.cli import main

raise SystemExit(main())
