"""A charger's first minute, from outside the node: connect through NGINX, boot, check.

Usage: charger.py URL IDENTITY [--ca FILE] [--cert FILE --key FILE]
Connects to URL/ocpp/IDENTITY offering ocpp1.6, checks that the server chose ocpp1.6, sends
BootNotification and checks that the reply is Accepted. Exit 0 when all of that held.
"""
from __future__ import annotations

import argparse
import asyncio
import ssl
import sys

import websockets
from ocpp.v16 import ChargePoint, call


async def boot(args: argparse.Namespace) -> int:
    context = None
    if args.url.startswith("wss://"):
        context = ssl.create_default_context(cafile=args.ca)
        if args.cert:
            context.load_cert_chain(args.cert, args.key)
    url = f"{args.url}/ocpp/{args.identity}"
    async with websockets.connect(url, subprotocols=["ocpp1.6"], ssl=context,
                                  open_timeout=10) as ws:
        if ws.subprotocol != "ocpp1.6":
            print(f"{url}: negotiated {ws.subprotocol!r}, not ocpp1.6", file=sys.stderr)
            return 1
        charger = ChargePoint(args.identity, ws)
        listener = asyncio.create_task(charger.start())
        try:
            reply = await asyncio.wait_for(charger.call(call.BootNotification(
                charge_point_model="Molecule", charge_point_vendor="Constellation")), 20)
        finally:
            listener.cancel()
    if reply.status != "Accepted":
        print(f"{url}: BootNotification answered {reply.status}", file=sys.stderr)
        return 1
    print(f"ok: {url} negotiated ocpp1.6 and BootNotification was Accepted "
          f"(interval {reply.interval} s)")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("identity")
    parser.add_argument("--ca")
    parser.add_argument("--cert")
    parser.add_argument("--key")
    return asyncio.run(boot(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
