from eksmon.cli import main

raise SystemExit(main())
