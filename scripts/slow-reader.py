#!/usr/bin/env python3
# Clients that pipeline requests and never read the answers (slow readers), over plain TCP or TLS:
# each connection shrinks its receive buffer, sends requests until its sends stall for 0.5 s (the
# server has stopped reading because its answers are not read), and, once all have stalled, prints
# "stalled"; then it watches for the server's close (FIN or reset) for WATCH seconds and prints
# "closed <seconds after the stall>" or "open" per connection, then "done".
# Usage: slow-reader.py PORT TLS(0|1) COUNT WATCH   (used by scripts/soak.sh and SlowClientTests)
import socket, ssl, sys, time, select
port, tls, count, watch = int(sys.argv[1]), sys.argv[2] == "1", int(sys.argv[3]), float(sys.argv[4])
batch = b"GET /.well-known/terraform.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" * 200
conns = []
for _ in range(count):
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.connect(("127.0.0.1", port))
    s = raw
    if tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        s = ctx.wrap_socket(raw)
    s.settimeout(0.5)
    conns.append(s)
stalled = []
for s in conns:
    start = time.time()
    while time.time() - start < 20:
        try:
            s.sendall(batch)
        except socket.timeout:
            break
        except OSError:
            break
    stalled.append(time.time())
print("stalled", flush=True)
closed = [None] * count
end = time.time() + watch
p = select.poll()
for i, s in enumerate(conns):
    p.register(s.fileno(), select.POLLRDHUP | select.POLLHUP | select.POLLERR)
while time.time() < end and None in closed:
    for fd, ev in p.poll(100):
        i = [c.fileno() for c in conns].index(fd)
        if closed[i] is None:
            closed[i] = time.time() - stalled[i]
            p.unregister(fd)
for c in closed:
    print("open" if c is None else "closed %.2f" % c, flush=True)
print("done", flush=True)
