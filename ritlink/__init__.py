"""The ``ritlink`` command line: the composition root.

This package is the command and nothing else. It is the only package that imports all of
devices, edge, web, seh and simulators, and it imports each lazily per subcommand, so that
``ritlink sim gps`` never loads the tablet service and ``ritlink serve`` never loads a simulator.
"""
