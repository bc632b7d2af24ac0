from clearrec_desktop.cli import main

raise SystemExit(main())
