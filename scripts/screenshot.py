"""Save an SVG screenshot of the TUI after a real conversation on the configured model."""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from agent import Agent
from agent.settings import load_settings
from tui import ConvrecApp

MESSAGES = ["something with Jim Carrey"]  # a first request the old default (ml-100k) failed


async def shoot(out: Path, messages: list[str], size: tuple[int, int]) -> None:
    """Drive the app with Pilot through `messages`, then save the screen as SVG."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(None, sessions_db=Path(tmp) / "sessions.sqlite3")
        app = ConvrecApp(agent=Agent.from_settings(settings))
        async with app.run_test(size=size) as pilot:
            for text in messages:
                app.chat.input.value = text
                await pilot.press("enter")
                await app.workers.wait_for_complete()
                await pilot.pause(0.5)
            await pilot.press("tab", "e")
            await pilot.pause(0.5)
            app.save_screenshot(filename=out.name, path=str(out.parent))


def main() -> None:
    """`python scripts/screenshot.py [OUT.svg] [--message TEXT ...]`."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path, nargs="?", default=Path("docs/screenshot.svg"))
    parser.add_argument("--message", action="append", dest="messages")
    parser.add_argument("--width", type=int, default=130)
    parser.add_argument("--height", type=int, default=38)
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    asyncio.run(shoot(args.out, args.messages or MESSAGES, (args.width, args.height)))
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
