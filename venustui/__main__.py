from venustui.cli import main

raise SystemExit(main())
