import sys

from mffcnn.interrupts import remember_sigint

interrupted = remember_sigint()
try:  # a Ctrl-C while the command line module loads: one line, as in main()
    from mffcnn.cli import main
except KeyboardInterrupt:
    print("mffcnn: interrupted", file=sys.stderr)
    sys.exit(130)
except ImportError:
    if not interrupted:
        raise
    print("mffcnn: interrupted", file=sys.stderr)
    sys.exit(130)

sys.exit(main())
