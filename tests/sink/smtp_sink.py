"""An SMTP sink that keeps every byte: aiosmtpd on a loopback port, each message stored as
<n>.eml (the DATA bytes as received, dot-unstuffed, nothing dropped: Bcc stays if a client
sent it) and <n>.json (MAIL FROM, its parameters, RCPT TO).

Postfix drops Bcc and adds a missing From/Date itself, so its sink cannot show a leaked Bcc
or a missing header; this one can. Started by tests/sendmail.rs:

    smtp_sink.py DIR PORT_FILE

It serves until its standard input closes (the test process ended).
"""
import asyncio
import json
import os
import sys
import threading

from aiosmtpd.smtp import SMTP


class Keep:
    def __init__(self, folder):
        self.folder = folder
        self.n = 0

    async def handle_DATA(self, server, session, envelope):
        self.n += 1
        base = os.path.join(self.folder, f"{os.getpid()}-{self.n:05d}")
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content)
        meta = {
            "mail_from": envelope.mail_from,
            "mail_options": envelope.mail_options,
            "rcpt_tos": envelope.rcpt_tos,
        }
        with open(base + ".json", "w") as f:
            json.dump(meta, f)
        # The .eml appears last: a reader that sees it finds the .json too.
        os.rename(base + ".eml.tmp", base + ".eml")
        return "250 2.0.0 kept"


async def main(folder, port_file):
    loop = asyncio.get_running_loop()
    handler = Keep(folder)
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="sink.test", enable_SMTPUTF8=True, decode_data=False),
        "127.0.0.1",
        0,
    )
    port = server.sockets[0].getsockname()[1]
    with open(port_file + ".tmp", "w") as f:
        f.write(str(port))
    os.rename(port_file + ".tmp", port_file)
    done = asyncio.Event()

    def wait_for_eof():
        sys.stdin.buffer.read()
        loop.call_soon_threadsafe(done.set)

    threading.Thread(target=wait_for_eof, daemon=True).start()
    await done.wait()
    server.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
