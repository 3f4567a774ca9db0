import sys

from tqd_lite.cli import main

sys.exit(main())
