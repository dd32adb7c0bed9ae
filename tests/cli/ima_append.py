#!/usr/bin/env python3
"""ima_append.py LIST PATH [CONTENT]: append an ima-ng entry (PCR 10) for PATH to the binary
IMA measurement list LIST, as the kernel writes it (security/integrity/ima/ima_fs.c), and print
the SHA-256 the kernel would extend PCR 10's sha256 bank with (SHA-256 of the template data).
The file digest is SHA-256 of CONTENT (default: PATH itself). Written from the kernel's layout,
independently of atls's parser."""
import hashlib
import struct
import sys


def main():
    lst, path = sys.argv[1], sys.argv[2].encode()
    content = sys.argv[3].encode() if len(sys.argv) > 3 else path
    digest = hashlib.sha256(content).digest()
    d_ng = b"sha256:\0" + digest
    n_ng = path + b"\0"
    data = struct.pack("<I", len(d_ng)) + d_ng + struct.pack("<I", len(n_ng)) + n_ng
    name = b"ima-ng"
    entry = (struct.pack("<I", 10) + hashlib.sha1(data).digest() + struct.pack("<I", len(name))
             + name + struct.pack("<I", len(data)) + data)
    with open(lst, "ab") as f:
        f.write(entry)
    print(hashlib.sha256(data).hexdigest())
    print("sha256:" + digest.hex(), file=sys.stderr)


if __name__ == "__main__":
    main()
