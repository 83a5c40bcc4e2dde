"""An SMTP server that takes every message and records it, for the load benchmark.

    python bench/smtp_sink.py --port 8125 --record sink.jsonl

Each message is one JSON line (its Message-ID, recipients and the time), written and flushed
to disk before the server answers 250: a message the sink acknowledged is in the file. It runs
as a process of its own so that bench/load.py can stop it (SIGTERM) and start it again, as a
mail server goes down and comes back.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import threading
import time
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class Recorder:
    def __init__(self, path: Path) -> None:
        self.output = path.open("a", encoding="utf-8")

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        headers = BytesHeaderParser().parsebytes(envelope.content)
        line = {
            "message_id": headers.get("Message-ID", ""),
            "to": envelope.rcpt_tos,
            "at": time.time(),
        }
        self.output.write(json.dumps(line) + "\n")
        self.output.flush()
        os.fsync(self.output.fileno())
        return "250 Message accepted"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--record", type=Path, required=True)
    args = parser.parse_args()
    controller = Controller(Recorder(args.record), hostname="127.0.0.1", port=args.port)
    controller.start()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    print(f"SMTP sink on 127.0.0.1:{args.port}, recording to {args.record}", flush=True)
    stopped.wait()
    controller.stop()


if __name__ == "__main__":
    main()
