import sys

from mffcnn.cli import main

sys.exit(main())
