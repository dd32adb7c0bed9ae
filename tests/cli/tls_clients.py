#!/usr/bin/env python3
"""tls_clients.py: plain TLS clients (no ALPN atls/1: serve's plain TLS proxy to an echo backend)
for the serve tests, standard library only.

  hold PORT CA N          open N connections one after another (handshake and one echo each),
                          keep them open, then echo through every one that was accepted again;
                          prints "accepted=A refused=R still=S"
  rtt PORT CA SECONDS     one connection echoing 16 bytes back and forth for SECONDS; prints
                          "rounds=N max_ms=M" (the slowest round trip)
"""
import socket
import ssl
import sys
import time


def connect(port, ca, timeout=5.0):
    ctx = ssl.create_default_context(cafile=ca)
    ctx.check_hostname = False
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s = ctx.wrap_socket(raw, server_hostname="localhost")
    except Exception:
        raw.close()
        raise
    return s


def echo(s, data):
    s.sendall(data)
    got = b""
    while len(got) < len(data):
        chunk = s.recv(len(data) - len(got))
        if not chunk:
            raise ConnectionError("closed")
        got += chunk
    if got != data:
        raise ValueError("echo mismatch")


def hold(port, ca, n):
    kept, refused = [], 0
    for i in range(n):
        try:
            s = connect(port, ca)
            echo(s, b"hello %d\n" % i)
            kept.append(s)
        except Exception:
            refused += 1
    still = 0
    for i, s in enumerate(kept):
        try:
            echo(s, b"again %d\n" % i)
            still += 1
        except Exception:
            pass
    print("accepted=%d refused=%d still=%d" % (len(kept), refused, still), flush=True)
    for s in kept:
        s.close()


def rtt(port, ca, seconds):
    s = connect(port, ca)
    worst, rounds = 0.0, 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t0 = time.monotonic()
        echo(s, b"0123456789abcdef")
        worst = max(worst, time.monotonic() - t0)
        rounds += 1
        time.sleep(0.005)
    print("rounds=%d max_ms=%d" % (rounds, int(worst * 1000)), flush=True)
    s.close()


if __name__ == "__main__":
    mode, port, ca = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if mode == "hold":
        hold(port, ca, int(sys.argv[4]))
    elif mode == "rtt":
        rtt(port, ca, float(sys.argv[4]))
    else:
        sys.exit("unknown mode " + mode)
