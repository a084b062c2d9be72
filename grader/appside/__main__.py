"""``python -m grader.appside``: serve the project in the current directory over the channel."""

import os
import sys

from grader.appside.server import main

if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)  # threads still waiting on the student's code do not keep it alive
