#!/usr/bin/python3
"""merkle_rfc6962.py TREES: an independent check of atls's batch trees (src/evidence/batch/).

atls builds its trees bottom-up, level by level, and walks proofs with a level loop. This
script follows the recursive definitions instead, written from the RFC text with SHA-512:
  MTH and PATH       RFC 6962 section 2.1 / RFC 9162 section 2.1.1 and 2.1.3.1
                     (split at k, the largest power of two smaller than n)
  verification       RFC 9162 section 2.1.3.2 (the fn / sn bit walk)
Each line of TREES (written by `test_merkle dump`) is "size index leaf root path...". Only the
leaves are taken from atls: every root is recomputed here from all leaves of its tree, every
path is recomputed and compared, and every path is verified with the RFC 9162 algorithm.
Prints "N passed, M failed".
"""
import hashlib
import sys


def leaf_hash(d):
    return hashlib.sha512(b'\x00' + d).digest()


def node_hash(a, b):
    return hashlib.sha512(b'\x01' + a + b).digest()


def split(n):
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(d):
    if len(d) == 1:
        return leaf_hash(d[0])
    k = split(len(d))
    return node_hash(mth(d[:k]), mth(d[k:]))


def path(m, d):
    if len(d) == 1:
        return []
    k = split(len(d))
    if m < k:
        return path(m, d[:k]) + [mth(d[k:])]
    return path(m - k, d[k:]) + [mth(d[:k])]


def verify(index, size, leaf, proof, root):
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf_hash(leaf)
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def main():
    rows = [line.split() for line in open(sys.argv[1]) if line.strip()]
    trees = {}
    for row in rows:
        size, index = int(row[0]), int(row[1])
        trees.setdefault(size, {})[index] = (bytes.fromhex(row[2]), bytes.fromhex(row[3]),
                                             [bytes.fromhex(h) for h in row[4:]])
    passed = failed = 0

    def check(ok, what):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
            print('FAIL', what)

    for size, entries in sorted(trees.items()):
        check(sorted(entries) == list(range(size)), 'size %d: every leaf present' % size)
        leaves = [entries[i][0] for i in range(size)]
        root = mth(leaves)
        for i in range(size):
            leaf, atls_root, atls_path = entries[i]
            check(atls_root == root, 'size %d: root' % size)
            check(atls_path == path(i, leaves), 'size %d leaf %d: path' % (size, i))
            check(verify(i, size, leaf, atls_path, root), 'size %d leaf %d: verifies' % (size, i))
            if size > 1:
                # the RFC algorithm refuses what atls refuses: truncated, over-long, other leaf
                check(not verify(i, size, leaf, atls_path[:-1], root), 'truncated %d/%d' % (i, size))
                check(not verify(i, size, leaf, atls_path + [root], root), 'over-long %d/%d' % (i, size))
                other = entries[(i + 1) % size][0]
                check(not verify(i, size, other, atls_path, root), 'other leaf %d/%d' % (i, size))
    check(len(trees) >= 10, 'enough trees dumped')
    print('%d passed, %d failed' % (passed, failed))
    return 1 if failed else 0


sys.exit(main())
