from totalcap.cli import main

raise SystemExit(main())
