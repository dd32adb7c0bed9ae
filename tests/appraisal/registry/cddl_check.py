#!/usr/bin/python3
"""cddl_check.py: checks atls's encoder output against the CDDL in docs/EVIDENCE.md.

Independent of atls's C code: CBOR is decoded by python3-cbor2 (Debian), and the CDDL is read
from the ```cddl blocks of the document (the single source: nothing here restates a shape) and
interpreted by the small RFC 8610 subset below. Usage:

    cddl_check.py DOC MANIFEST

MANIFEST lines (written by media_samples):
    sample RULE det|any PATH     PATH must match RULE; "det": also RFC 8949 section 4.2.1
                                 deterministic encoding (checked by re-encoding with cbor2)
    media-type KIND NAME TYPE    a registered verifier or attester media type: some record rule
                                 must name TYPE, and some sample must match that rule
Then a fixed list of mutations of the samples must be refused (a checker that accepts anything
would pass the first part). Prints one line per check and "N passed, M failed".

CDDL subset (RFC 8610): rules "name = type"; type choices "/"; ranges ".." and "..."; controls
.size (uint or range), .cbor; tags #6.N(type); maps and arrays of group entries with occurrence
? * + n*m, member keys "bareword:", "value:" and "type =>" (a literal key, or any ":" key, cuts:
a present key whose value does not match fails the map); the prelude types used. Maps are
closed: a key no entry matches fails.
"""
import io
import re
import sys

import cbor2

# ---------------------------------------------------------------- CDDL text -> rules

TOKEN = re.compile(r'''
    (?P<ws>\s+|;[^\n]*)
  | (?P<tag>\#6\.(?P<tagnum>\d+))
  | (?P<text>"(?:[^"\\]|\\.)*")
  | (?P<num>-?(?:0x[0-9a-fA-F]+|\d+))
  | (?P<ctl>\.[a-z]+)
  | (?P<punct>\.\.\.|\.\.|=>|//|[=/(){}\[\],:?*+^])
  | (?P<id>[A-Za-z@_$](?:[A-Za-z0-9@_$.\-]*[A-Za-z0-9@_$])?)
''', re.VERBOSE)


class CddlError(Exception):
    pass


def tokenize(src):
    out, pos = [], 0
    while pos < len(src):
        m = TOKEN.match(src, pos)
        if not m:
            raise CddlError('CDDL: cannot read %r' % src[pos:pos + 20])
        pos = m.end()
        kind = m.lastgroup if m.lastgroup != 'tagnum' else 'tag'
        if kind == 'ws':
            continue
        if kind == 'tag':
            out.append(('tag', int(m.group('tagnum'))))
        elif kind == 'text':
            out.append(('text', bytes(m.group()[1:-1], 'utf-8').decode('unicode_escape')))
        elif kind == 'num':
            out.append(('num', int(m.group(), 0)))
        else:
            out.append((kind, m.group()))
    return out


class Parser:
    """Recursive descent over the token list; builds tuples:
    type   = ('choice', [type1...])
    type1  = ('range', lo, hi, inclusive) | ('ctl', name, target, arg) | type2
    type2  = ('lit', v) | ('ref', name) | ('map', group) | ('array', group) | ('tag', n, type)
    group  = [entry...], entry = (min, max, key, cut, type); key None, ('lit', v) or type1
    """

    def __init__(self, tokens):
        self.t, self.i = tokens, 0

    def peek(self, k=0):
        return self.t[self.i + k] if self.i + k < len(self.t) else (None, None)

    def take(self, value=None):
        tok = self.peek()
        if value is not None and tok[1] != value:
            raise CddlError('CDDL: expected %r, found %r' % (value, tok[1]))
        self.i += 1
        return tok

    def rules(self):
        rules = {}
        while self.peek()[0] is not None:
            kind, name = self.take()
            if kind != 'id':
                raise CddlError('CDDL: rule name expected, found %r' % (name,))
            self.take('=')
            if name in rules:
                raise CddlError('CDDL: rule %s defined twice' % name)
            rules[name] = self.type()
        return rules

    def type(self):
        alts = [self.type1()]
        while self.peek()[1] == '/':
            self.take()
            alts.append(self.type1())
        return ('choice', alts)

    def type1(self):
        left = self.type2()
        kind, v = self.peek()
        if v in ('..', '...'):
            self.take()
            return ('range', left, self.type2(), v == '..')
        if kind == 'ctl':
            self.take()
            return ('ctl', v[1:], left, self.type2())
        return left

    def type2(self):
        kind, v = self.take()
        if kind in ('num', 'text'):
            return ('lit', v)
        if kind == 'id':
            return ('ref', v)
        if kind == 'tag':
            self.take('(')
            inner = self.type()
            self.take(')')
            return ('tag', v, inner)
        if v == '(':
            inner = self.type()
            self.take(')')
            return inner
        if v in ('{', '['):
            group = self.group('}' if v == '{' else ']')
            return ('map' if v == '{' else 'array', group)
        raise CddlError('CDDL: unexpected %r' % (v,))

    def occurrence(self):
        kind, v = self.peek()
        if v == '?':
            self.take()
            return 0, 1
        if v == '+':
            self.take()
            return 1, None
        lo = None
        if kind == 'num' and self.peek(1)[1] == '*':
            lo = self.take()[1]
            kind, v = self.peek()
        if v == '*':
            self.take()
            hi = self.take()[1] if self.peek()[0] == 'num' else None
            return (lo or 0), hi
        if lo is not None:
            raise CddlError('CDDL: bad occurrence')
        return 1, 1

    def group(self, close):
        entries = []
        while self.peek()[1] != close:
            lo, hi = self.occurrence()
            key, cut = None, False
            kind, v = self.peek()
            if kind in ('id', 'text', 'num') and self.peek(1)[1] == ':':
                self.take()
                self.take(':')
                key, cut = ('lit', v), True  # bareword or value followed by ':'
            else:
                save = self.i
                try:
                    k = self.type1()
                    if self.peek()[1] == '^':
                        self.take()
                        cut = True
                    if self.peek()[1] == '=>':
                        self.take()
                        key = k
                        cut = cut or k[0] == 'lit'
                    else:
                        self.i = save
                except CddlError:
                    self.i = save
            entries.append((lo, hi, key, cut, self.type()))
            if self.peek()[1] == ',':
                self.take()
        self.take(close)
        return entries


def read_cddl(doc_path):
    text = open(doc_path, encoding='utf-8').read()
    blocks = re.findall(r'^```cddl\n(.*?)^```', text, re.S | re.M)
    if not blocks:
        raise CddlError('%s has no ```cddl block' % doc_path)
    rules = Parser(tokenize('\n'.join(blocks))).rules()
    for name in rules:  # every reference resolves
        for ref in refs(rules[name]):
            if ref not in rules and ref not in PRELUDE:
                raise CddlError('CDDL: rule %s uses undefined %s' % (name, ref))
    return rules


def refs(node):
    if isinstance(node, tuple):
        if node and node[0] == 'ref':
            yield node[1]
        for part in node:
            yield from refs(part)
    elif isinstance(node, list):
        for part in node:
            yield from refs(part)

# ---------------------------------------------------------------- matching


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


PRELUDE = {
    'any': lambda v: True,
    'uint': lambda v: is_int(v) and v >= 0,
    'nint': lambda v: is_int(v) and v < 0,
    'int': is_int,
    'bstr': lambda v: isinstance(v, bytes),
    'bytes': lambda v: isinstance(v, bytes),
    'tstr': lambda v: isinstance(v, str),
    'text': lambda v: isinstance(v, str),
    'bool': lambda v: isinstance(v, bool),
    'true': lambda v: v is True,
    'false': lambda v: v is False,
    'null': lambda v: v is None,
    'nil': lambda v: v is None,
}


class Checker:
    def __init__(self, rules):
        self.rules = rules
        self.seen = {}  # rule name -> first item that matched it inside a .cbor byte string

    def literal(self, node):
        """The int value of a literal or of a rule that is one literal (range bounds)."""
        while node[0] in ('ref', 'choice'):
            if node[0] == 'ref':
                node = self.rules[node[1]]
            elif len(node[1]) == 1:
                node = node[1][0]
            else:
                break
        if node[0] != 'lit':
            raise CddlError('CDDL: range bound is not a literal')
        return node[1]

    def match(self, node, v, path):
        """None if v matches node, else a one-line reason."""
        kind = node[0]
        if kind == 'choice':
            reasons = []
            for alt in node[1]:
                r = self.match(alt, v, path)
                if r is None:
                    return None
                reasons.append(r)
            return reasons[0] if len(reasons) == 1 else '%s: no choice matches (%s)' % (
                path, '; '.join(reasons))
        if kind == 'lit':
            same = v == node[1] and type(v) is type(node[1]) and not isinstance(v, bool)
            return None if same else '%s: %r is not %r' % (path, short(v), node[1])
        if kind == 'ref':
            name = node[1]
            if name in self.rules:
                return self.match(self.rules[name], v, path)
            return None if PRELUDE[name](v) else '%s: %r is not %s' % (path, short(v), name)
        if kind == 'range':
            lo, hi = self.literal(node[1]), self.literal(node[2])
            ok = is_int(v) and lo <= v and (v <= hi if node[3] else v < hi)
            return None if ok else '%s: %r not in %d..%d' % (path, short(v), lo, hi)
        if kind == 'ctl':
            return self.control(node[1], node[2], node[3], v, path)
        if kind == 'tag':
            if not isinstance(v, cbor2.CBORTag) or v.tag != node[1]:
                return '%s: not tag %d' % (path, node[1])
            return self.match(node[2], v.value, '%s#%d' % (path, node[1]))
        if kind == 'map':
            return self.match_map(node[1], v, path)
        if kind == 'array':
            return self.match_array(node[1], v, path)
        raise CddlError('CDDL: cannot match %r' % (node,))

    def control(self, name, target, arg, v, path):
        r = self.match(target, v, path)
        if r is not None:
            return r
        if name == 'size':
            n = len(v.encode('utf-8')) if isinstance(v, str) else len(v)
            return self.match(arg, n, path + '.size')
        if name == 'cbor':
            try:
                fp = io.BytesIO(v)
                inner = cbor2.CBORDecoder(fp).decode()
            except Exception as e:  # noqa: BLE001 (any decode failure is the finding)
                return '%s: not CBOR (%s)' % (path, e)
            if fp.tell() != len(v):
                return '%s: %d bytes after the CBOR item' % (path, len(v) - fp.tell())
            r = self.match(arg, inner, path + '.cbor')
            if r is None and arg[0] == 'ref':
                self.seen.setdefault(arg[1], inner)
            return r
        raise CddlError('CDDL: control .%s is not supported' % name)

    def match_map(self, group, v, path):
        if not isinstance(v, dict):
            return '%s: %s is not a map' % (path, type(v).__name__)
        left = dict(v)
        for lo, hi, key, cut, vtype in group:
            if key is None:
                raise CddlError('CDDL: map entry without a key')
            count = 0
            for k in list(left):
                kp = '%s[%r]' % (path, k)
                if self.match(key, k, kp) is not None:
                    continue
                r = self.match(vtype, left[k], kp)
                if r is not None:
                    if cut:
                        return r
                    continue
                del left[k]
                count += 1
            if count < lo or (hi is not None and count > hi):
                return '%s: %d entries for key %s, want %s..%s' % (
                    path, count, show(key), lo, '' if hi is None else hi)
        if left:
            return '%s: unexpected key %r' % (path, short(next(iter(left))))
        return None

    def match_array(self, group, v, path):
        if not isinstance(v, list):
            return '%s: %s is not an array' % (path, type(v).__name__)
        i = 0
        for lo, hi, _key, _cut, vtype in group:
            count, first = 0, None
            while i < len(v) and (hi is None or count < hi):
                r = self.match(vtype, v[i], '%s[%d]' % (path, i))
                if r is not None:
                    first = r
                    break
                i += 1
                count += 1
            if count < lo:
                return first or '%s: %d elements, need more' % (path, len(v))
        if i != len(v):
            return '%s: %d elements, %d expected at most' % (path, len(v), i)
        return None


def short(v):
    s = repr(v)
    return s if len(s) < 40 else s[:37] + '...'


def show(node):
    return repr(node[1]) if node[0] in ('lit', 'ref') else node[0]

# ---------------------------------------------------------------- the checks


def decode_one(data):
    fp = io.BytesIO(data)
    item = cbor2.CBORDecoder(fp).decode()
    if fp.tell() != len(data):
        raise ValueError('%d trailing bytes' % (len(data) - fp.tell()))
    return item


def deterministic(data, item):
    """RFC 8949 section 4.2.1: cbor2's canonical form sorts keys length first, which equals
    bytewise order for the maps atls writes (each map's keys share one major type)."""
    return cbor2.dumps(item, canonical=True) == data


def record_types(rules):
    """Media types named by record rules: [ "type", ... ] arrays whose first entry is text."""
    found = {}
    for name, node in rules.items():
        t1 = node[1][0] if node[0] == 'choice' and len(node[1]) == 1 else None
        if t1 and t1[0] == 'array' and t1[1]:
            first = t1[1][0][4]
            while first[0] in ('choice', 'ref') and (first[0] == 'ref' or len(first[1]) == 1):
                first = rules[first[1]] if first[0] == 'ref' else first[1][0]
            if first[0] == 'lit' and isinstance(first[1], str):
                found.setdefault(first[1], []).append(name)
    return found


class Report:
    def __init__(self):
        self.passed = self.failed = 0

    def check(self, ok, what, why=''):
        if ok:
            self.passed += 1
            print('ok - %s' % what)
        else:
            self.failed += 1
            print('FAIL - %s%s' % (what, ': ' + why if why else ''))


def with_(item, key, value):
    out = dict(item)
    out[key] = value
    return out


def mutations(rule, item):
    """Shapes the CDDL must refuse, made from a valid sample of |rule|: (what, value)."""
    if rule == 'tpm2-quote':
        bank = item['pcrs'][11] if 11 in item['pcrs'] else next(iter(item['pcrs'].values()))
        triples = [[alg, i, d] for alg, b in item['pcrs'].items() for i, d in b.items()]
        yield 'tpm2: pcrs as an array of [alg, index, value] triples', with_(item, 'pcrs', triples)
        yield 'tpm2: bank named "sha256"', with_(item, 'pcrs', {'sha256': bank})
        yield 'tpm2: SM3 bank (18)', with_(item, 'pcrs', {18: bank})
        yield 'tpm2: empty bank', with_(item, 'pcrs', {11: {}})
        yield 'tpm2: PCR 32', with_(item, 'pcrs', {11: {32: b'\0' * 32}})
        yield 'tpm2: 20-byte value in the sha256 bank', with_(item, 'pcrs', {11: {0: b'\0' * 20}})
        yield 'tpm2: PCR index as text', with_(item, 'pcrs', {11: {'0': b'\0' * 32}})
        yield 'tpm2: no "attest"', {k: v for k, v in item.items() if k != 'attest'}
        yield 'tpm2: unknown member', with_(item, 'eventlog', b'x')
        yield 'tpm2: empty "sig"', with_(item, 'sig', b'')
    elif rule == 'sim-claims':
        yield 'sim: 32-byte nonce', with_(item, 10, b'\0' * 32)
        yield 'sim: another profile', with_(item, 265, 'tag:example.com,2026:x')
        yield 'sim: unknown claim', with_(item, -70002, 1)
        yield 'sim: 20-byte measurement', with_(item, -70000, {'fw': b'\0' * 20})
    elif rule == 'tsm-report':
        yield 'tsm: no provider', {k: v for k, v in item.items() if k != 'provider'}
        yield 'tsm: outblob as text', with_(item, 'outblob', 'x')
        yield 'tsm: empty outblob', with_(item, 'outblob', b'')
    elif rule == 'cca-realm-claims':
        yield 'cca: realm without challenge', {k: v for k, v in item.items() if k != 10}
        yield 'cca: three REMs', with_(item, 44239, item[44239][:3])
    elif rule == 'batch-evidence':
        proof = item[2]
        yield 'batch: tree of 0', item[:2] + [[0] + proof[1:]]
        yield 'batch: 63-byte hash', item[:2] + [proof[:2] + [[b'\0' * 63]]]
        yield 'batch: 13 hashes', item[:2] + [proof[:2] + [[b'\0' * 64] * 13]]
        yield 'batch: empty media type', [''] + item[1:]
        yield 'batch: proof as a map', item[:2] + [{'tree-size': proof[0]}]
    elif rule.endswith('-record'):
        yield rule + ': ind 8 (attestation results)', item[:2] + [8]
        yield rule + ': another media type', ['application/octet-stream'] + item[1:]
        yield rule + ': four elements', item[:2] + [4, 0]
        if rule == 'snp-record':
            yield 'snp: 1183-byte report', [item[0], item[1][:-1]] + item[2:]
    elif rule == 'atls-cmw-collection':
        yield 'collection: empty', {}
        yield 'collection: a record under a float label', {1.5: next(iter(item.values()))}


def main(argv):
    doc, manifest = argv[1], argv[2]
    rep = Report()
    rules = read_cddl(doc)
    rep.check(True, 'the CDDL of %s parses: %d rules, every reference defined' % (doc, len(rules)))
    checker = Checker(rules)
    types = record_types(rules)
    samples, media = [], []
    for line in open(manifest, encoding='utf-8'):
        parts = line.rstrip('\n').split(' ', 3)
        if parts[0] == 'sample':
            samples.append((parts[1], parts[2], parts[3]))
        elif parts[0] == 'media-type':
            media.append((parts[1], parts[2], parts[3]))
    matched_rules = set()
    first_item = {}
    for rule, mode, path in samples:
        name = path.rsplit('/', 1)[-1]
        if rule not in rules:
            rep.check(False, '%s: rule %s' % (name, rule), 'not in the CDDL')
            continue
        data = open(path, 'rb').read()
        try:
            item = decode_one(data)
        except Exception as e:  # noqa: BLE001
            rep.check(False, '%s decodes with cbor2' % name, str(e))
            continue
        why = checker.match(rules[rule], item, rule)
        rep.check(why is None, '%s matches %s' % (name, rule), why or '')
        if why is None:
            matched_rules.add(rule)
            first_item.setdefault(rule, item)
        if mode == 'det':
            rep.check(deterministic(data, item),
                      '%s is in deterministic encoding (RFC 8949 section 4.2.1)' % name)
    for kind, name, mt in media:
        names = types.get(mt, [])
        rep.check(bool(names), '%s %s: media type %s has a record rule' % (kind, name, mt))
        rep.check(any(n in matched_rules for n in names),
                  '%s %s: a sample matched its record rule %s' % (kind, name, '/'.join(names)))
    for rule, item in checker.seen.items():
        first_item.setdefault(rule, item)
    for rule, item in sorted(first_item.items(), key=lambda kv: kv[0]):
        for what, bad in mutations(rule, item):
            why = checker.match(rules[rule], bad, rule)
            rep.check(why is not None, 'refused: %s' % what, 'the CDDL accepted it')
    print('%d passed, %d failed' % (rep.passed, rep.failed))
    return 0 if rep.failed == 0 and rep.passed > 0 else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv))
