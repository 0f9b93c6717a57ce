"""Start the idfy architecture explorer: ``python app.py [--host 127.0.0.1] [--port 7860]``."""

from __future__ import annotations

import argparse
import logging
import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported anywhere


def main() -> None:
    parser = argparse.ArgumentParser(description="idfy architecture explorer (Gradio)")
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)"
    )
    parser.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # Gradio's own start-up probes of the local server
    from idfy.ui.app import launch

    launch(args.host, args.port, block=True)


if __name__ == "__main__":
    main()
