import sys

from loyaltylab.cli import main

sys.exit(main())
