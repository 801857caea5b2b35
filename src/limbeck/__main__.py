from limbeck.cli import main

raise SystemExit(main())
