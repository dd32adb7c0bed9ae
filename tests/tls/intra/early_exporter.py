#!/usr/bin/env python3
"""An independent computation of the TLS 1.3 early exporter of a non-PSK handshake
(RFC 8446 sections 7.1 and 7.5), with the Python standard library only, for
test_intra_wire: early_exporter.py HASH CLIENTHELLO_HEX LABEL LENGTH -> hex."""
import hashlib
import hmac
import sys


def main():
    name, ch, label, length = sys.argv[1], bytes.fromhex(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    size = hashlib.new(name).digest_size

    def digest(data):
        return hashlib.new(name, data).digest()

    def expand(prk, info, n):
        out, t, i = b"", b"", 1
        while len(out) < n:
            t = hmac.new(prk, t + info + bytes([i]), name).digest()
            out, i = out + t, i + 1
        return out[:n]

    def expand_label(secret, lab, context, n):
        full = b"tls13 " + lab
        info = n.to_bytes(2, "big") + bytes([len(full)]) + full + bytes([len(context)]) + context
        return expand(secret, info, n)

    early_secret = hmac.new(bytes(size), bytes(size), name).digest()  # HKDF-Extract(0, 0)
    ems = expand_label(early_secret, b"e exp master", digest(ch), size)
    derived = expand_label(ems, label.encode(), digest(b""), size)
    print(expand_label(derived, b"exporter", digest(b""), length).hex())


main()
