"""`python -m emulator.s3 --host 127.0.0.1 --port 4566 [--data-dir DIR]`: run the S3 emulator until
Ctrl-C; in memory (moto), or with --data-dir in files there (s3rver) that a later run serves again."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from pathlib import Path
from types import FrameType

from emulator.s3.server import S3Emulator


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m emulator.s3", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=4566, help="public port (0 = any free port)")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="keep buckets and objects as files here (s3rver); default: in memory (moto)")
    return parser.parse_args(argv)


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # same clean shutdown as Ctrl-C


def main(argv: list[str] | None = None) -> None:
    args = _parse_args(argv)
    # moto's werkzeug server would log every internal request the front makes.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    emulator = S3Emulator(host=args.host, port=args.port, backend="files" if args.data_dir else "moto",
                          data_dir=args.data_dir)
    print(emulator.start(), flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()


if __name__ == "__main__":
    main()
