"""Process control on the grader's side of the trust boundary.

Start the app in the sandbox and the trusted pytest beside it (through the fork
server when it runs), bound their memory, files, processes and time, read the
signed channel, and reap everything when a part ends.
"""
