import sys

try:  # a Ctrl-C while the command line module loads: one line, as in main()
    from mffcnn.cli import main
except KeyboardInterrupt:
    print("mffcnn: interrupted", file=sys.stderr)
    sys.exit(130)

sys.exit(main())
