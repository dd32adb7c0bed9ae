#!/usr/bin/python3
"""wrap_tpm2_quote.py: independent tooling for application/vnd.atls.tpm2-quote+cbor.

Wraps a quote made with tpm2-tools into the Evidence map described in docs/EVIDENCE.md
("TPM 2.0", CDDL rule tpm2-quote), written from that description alone with python3-cbor2 and
no atls code, so a test can show that atls's verifier accepts Evidence made the documented way:

    wrap_tpm2_quote.py --ak ak.pub --attest quote.msg --sig quote.sig \\
                       --pcrs sha256:0-7,23+sha1:0 --values pcrs.bin [--akcert ak.der] -o ev.cbor

ak.pub      TPM2B_PUBLIC of the AK (tpm2_createak -u, tpm2_readpublic -o)
quote.msg   TPMS_ATTEST (tpm2_quote -m)
quote.sig   TPMT_SIGNATURE (tpm2_quote -s)
--pcrs      the selection the quote was made over, tpm2-tools syntax
pcrs.bin    tpm2_pcrread SELECTION -o pcrs.bin: the digests, concatenated in selection order
"""
import argparse
import sys

import cbor2

# TPM_ALG_ID and digest size of each PCR bank hash (TCG Algorithm Registry)
BANKS = {'sha1': (0x0004, 20), 'sha256': (0x000B, 32), 'sha384': (0x000C, 48),
         'sha512': (0x000D, 64)}


def selection(spec):
    """[(bank name, [index, ...]), ...] in the order given; indices ascending per bank."""
    out = []
    for part in spec.split('+'):
        name, _, items = part.partition(':')
        if name not in BANKS or not items:
            raise ValueError('bad PCR selection %r' % part)
        idx = set()
        for item in items.split(','):
            lo, _, hi = item.partition('-')
            idx.update(range(int(lo), int(hi or lo) + 1))
        if not all(0 <= i <= 31 for i in idx):
            raise ValueError('PCR index out of 0..31 in %r' % part)
        out.append((name, sorted(idx)))
    return out


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    for opt in ('--ak', '--attest', '--sig', '--pcrs', '--values', '-o'):
        ap.add_argument(opt, required=True)
    ap.add_argument('--akcert')
    a = ap.parse_args(argv[1:])
    values = open(a.values, 'rb').read()
    pcrs, off = {}, 0
    for name, indices in selection(a.pcrs):
        alg, size = BANKS[name]
        bank = pcrs.setdefault(alg, {})
        for i in indices:
            if off + size > len(values):
                raise ValueError('%s holds fewer digests than the selection' % a.values)
            bank[i] = values[off:off + size]
            off += size
    if off != len(values):
        raise ValueError('%s holds more digests than the selection' % a.values)
    evidence = {
        'ak': open(a.ak, 'rb').read(),
        'sig': open(a.sig, 'rb').read(),
        'pcrs': pcrs,
        'attest': open(a.attest, 'rb').read(),
    }
    if a.akcert:
        evidence['akcert'] = open(a.akcert, 'rb').read()
    # the document requires deterministic encoding; cbor2's canonical form is that for this
    # map (every map's keys share one major type, so length-first order is bytewise order)
    with open(a.o, 'wb') as f:
        f.write(cbor2.dumps(evidence, canonical=True))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
