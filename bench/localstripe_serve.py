"""localstripe on loopback only, for scripts/bench-psp.sh.

`localstripe --port N` binds every interface ('::') and pickles its store to the fixed path
/tmp/localstripe.pickle on every write. This runs the same aiohttp app, unchanged, on
127.0.0.1 with a port the kernel picks (printed on the first line, as the other servers do),
and points the pickle at a path of the caller's so concurrent runs cannot share or clobber one
file. The pickling itself is kept: it is part of what localstripe costs per request.

usage: python localstripe_serve.py PICKLE_PATH
"""

import pickle
import socket
import sys

from aiohttp import web

from localstripe import resources
from localstripe.server import app


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__.strip().splitlines()[-1])
    path = sys.argv[1]

    def dump_to_disk(self):
        # Same body as localstripe's Store.dump_to_disk, another path.
        with open(path, "wb") as f:
            pickle.dump(self, f, protocol=pickle.HIGHEST_PROTOCOL)

    resources.Store.dump_to_disk = dump_to_disk
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    print(f"localstripe listening on http://127.0.0.1:{port}", flush=True)
    # No access log: localstripe's own start() logs every request to stderr, which would charge
    # it for terminal output the other servers do not write.
    web.run_app(app, sock=sock, access_log=None, print=None)


if __name__ == "__main__":
    main()
