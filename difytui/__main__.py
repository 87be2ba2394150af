from difytui.cli import main

raise SystemExit(main())
