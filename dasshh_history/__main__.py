from dasshh_history.cli import main

raise SystemExit(main())
