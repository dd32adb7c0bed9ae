// jose_check.mjs: atls's EAR JWTs against an independent JOSE implementation (the `jose` npm
// package) and against the draft-ietf-rats-ear-04 CDDL (ear-04-json.cddl, parsed by the `cddl`
// npm package; the small validator below walks its AST). Driven by test_ear_jose.sh.
//
//   node jose_check.mjs check MODULES CDDL TOKEN JWK KEY   verify atls's token with jose
//   node jose_check.mjs sign MODULES KEY OUTDIR            tokens made by jose, for atls to judge
//
// MODULES is the node_modules folder the test installed; KEY the EAR signing key (PKCS#8 PEM).
import { readFileSync, writeFileSync } from 'node:fs';
import { webcrypto } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

if (globalThis.crypto === undefined) globalThis.crypto = webcrypto; // Node 18

const [mode, modules, ...args] = process.argv.slice(2);
const load = async (name, entry) => import(pathToFileURL(join(modules, name, entry)).href);
const jose = await load('jose', 'dist/webapi/index.js');

let failures = 0;
const check = (ok, what) => {
  console.log(`${ok ? 'ok' : 'FAIL'}: ${what}`);
  if (!ok) failures++;
};
const refuses = async (promise) => promise.then(() => false, () => true);

// ---- a CDDL validator for the subset ear-04-json.cddl uses (RFC 8610 sections 2 and 3) ----

function cddlValidator(rules) {
  const byName = new Map(rules.map((r) => [r.Name, r]));
  const prims = {
    any: () => true,
    int: (v) => Number.isInteger(v),
    uint: (v) => Number.isInteger(v) && v >= 0,
    text: (v) => typeof v === 'string',
    tstr: (v) => typeof v === 'string',
    bool: (v) => typeof v === 'boolean',
  };
  const isWildcard = (name) => name === 'text' || name === 'tstr';
  function type(v, t, path, errs) {
    const alts = Array.isArray(t) ? t : [t];
    for (const alt of alts) {
      const e = [];
      one(v, alt, path, e);
      if (e.length === 0) return;
      if (alts.length === 1) { errs.push(...e); return; }
    }
    if (alts.length > 1) errs.push(`${path}: matches none of ${alts.length} choices`);
  }
  function one(v, t, path, errs) {
    if (typeof t === 'string') {
      if (prims[t]) { if (!prims[t](v)) errs.push(`${path}: not ${t}`); return; }
      return ref(v, t, path, errs);
    }
    switch (t.Type) {
      case 'literal': if (v !== t.Value) errs.push(`${path}: not ${JSON.stringify(t.Value)}`); return;
      case 'range': {
        const { Min, Max, Inclusive } = t.Value;
        if (!Number.isInteger(v) || v < Min.Value || (Inclusive ? v > Max.Value : v >= Max.Value)) {
          errs.push(`${path}: not in ${Min.Value}..${Max.Value}`);
        }
        return;
      }
      case 'array': return array(v, t.Values, path, errs);
      case 'group': return t.Properties ? map(v, t.Properties, path, errs) : ref(v, t.Value, path, errs);
      default: errs.push(`${path}: CDDL construct ${t.Type} not supported by this validator`);
    }
  }
  function ref(v, name, path, errs) {
    const r = byName.get(name);
    if (!r) return errs.push(`${path}: no rule ${name}`);
    if (r.Type === 'group') return map(v, r.Properties, path, errs);
    if (r.Type === 'variable') return type(v, r.PropertyType, path, errs);
    if (r.Type === 'array') return array(v, r.Values, path, errs);
    errs.push(`${path}: rule ${name} of kind ${r.Type} not supported`);
  }
  const inRange = (n, occ) => n >= occ.n && (occ.m === null || n <= occ.m);
  function map(v, props, path, errs) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return errs.push(`${path}: not a map`);
    const named = new Set(props.filter((p) => !isWildcard(p.Name)).map((p) => p.Name));
    for (const p of props) {
      if (isWildcard(p.Name)) {
        const keys = Object.keys(v).filter((k) => !named.has(k));
        if (!inRange(keys.length, p.Occurrence)) errs.push(`${path}: ${keys.length} entries`);
        for (const k of keys) type(v[k], p.Type, `${path}.${k}`, errs);
        continue;
      }
      const has = Object.hasOwn(v, p.Name);
      if (!has && p.Occurrence.n > 0) errs.push(`${path}: ${p.Name} missing`);
      if (has) type(v[p.Name], p.Type, `${path}.${p.Name}`, errs);
    }
    if (!props.some((p) => isWildcard(p.Name))) {
      for (const k of Object.keys(v)) if (!named.has(k)) errs.push(`${path}: claim ${k} not in the CDDL`);
    }
  }
  function array(v, items, path, errs) {
    if (!Array.isArray(v)) return errs.push(`${path}: not an array`);
    if (items.length !== 1) return errs.push(`${path}: only [ occurrence type ] arrays supported`);
    if (!inRange(v.length, items[0].Occurrence)) errs.push(`${path}: ${v.length} elements`);
    v.forEach((e, i) => type(e, items[0].Type, `${path}[${i}]`, errs));
  }
  return (value, rule) => {
    const errs = [];
    ref(value, rule, rule, errs);
    // non-empty<> of the trustworthiness vector (ar4si.cddl), which needs .within
    for (const [name, sub] of Object.entries(value?.submods ?? {})) {
      const tv = sub?.ear_trustworthiness_vector;
      if (tv !== undefined && Object.keys(tv).length === 0) errs.push(`submods.${name}: empty vector`);
    }
    return errs;
  };
}

async function checkToken(cddlPath, tokenPath, jwkPath, keyPath) {
  const cddl = await load('cddl', 'build/index.js');
  const validate = cddlValidator(cddl.parse(cddlPath));
  const token = readFileSync(tokenPath, 'utf8').trim();
  const jwk = JSON.parse(readFileSync(jwkPath, 'utf8'));
  const priv = await jose.importPKCS8(readFileSync(keyPath, 'utf8'), 'ES256', { extractable: true });
  const fromPriv = await jose.exportJWK(priv);

  check(jwk.d === undefined && jwk.kty === 'EC' && jwk.crv === 'P-256' && jwk.x === fromPriv.x &&
        jwk.y === fromPriv.y, 'atls ear jwk is the public part of the signing key (no d)');
  const thumb = await jose.calculateJwkThumbprint({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, 'sha256');
  check(jwk.kid === thumb, `the JWK's kid is its RFC 7638 thumbprint (${thumb})`);

  const pub = await jose.importJWK(jwk, 'ES256');
  let payload = null, protectedHeader = null;
  try {
    ({ payload, protectedHeader } = await jose.jwtVerify(token, pub, { algorithms: ['ES256'], typ: 'JWT' }));
    check(true, 'jose verifies atls\'s EAR JWT (ES256 signature, typ, exp and iat checked by jose)');
  } catch (e) {
    check(false, `jose refuses atls's EAR JWT: ${e.code ?? ''} ${e.message}`);
    return;
  }
  check(protectedHeader.kid === thumb && protectedHeader.alg === 'ES256', 'JWT header: alg ES256, kid = thumbprint');
  check(Number.isInteger(payload.exp) && payload.exp > payload.iat, `exp ${payload.exp} after iat ${payload.iat}`);

  const parts = token.split('.');
  const flipped = parts[1].slice(0, -2) + (parts[1].at(-2) === 'A' ? 'B' : 'A') + parts[1].at(-1);
  check(await refuses(jose.jwtVerify([parts[0], flipped, parts[2]].join('.'), pub, { algorithms: ['ES256'] })),
        'jose refuses the token with a changed payload');
  const other = await jose.generateKeyPair('ES256');
  check(await refuses(jose.jwtVerify(token, other.publicKey, { algorithms: ['ES256'] })),
        'jose refuses the token under another key');

  const errs = validate(payload, 'EAR');
  check(errs.length === 0, `claims match draft-ietf-rats-ear-04's CDDL${errs.length ? ': ' + errs.join('; ') : ''}`);
  // the validator is not vacuous: each of these must be refused
  const sub = Object.keys(payload.submods)[0];
  const broken = [
    ['a -03 profile', (c) => { c.eat_profile = 'tag:ietf.org,2026:rats/ear#03'; }],
    ['an unknown tier', (c) => { c.submods[sub].ear_status = 'great'; }],
    ['a -03 private claim', (c) => { c.submods[sub].atls_failure = 'x'; }],
    ['an empty claims map', (c) => { c.submods[sub].ear_attester_claims = {}; }],
    ['a claim value out of range', (c) => { c.submods[sub].ear_trustworthiness_vector = { hardware: 200 }; }],
    ['an empty vector', (c) => { c.submods[sub].ear_trustworthiness_vector = {}; }],
    ['no submods', (c) => { c.submods = {}; }],
    ['a floating-point iat', (c) => { c.iat += 0.5; }],
    ['no verifier id', (c) => { delete c.ear_verifier_id; }],
  ];
  for (const [what, mutate] of broken) {
    const c = structuredClone(payload);
    mutate(c);
    check(validate(c, 'EAR').length > 0, `the CDDL check refuses ${what}`);
  }
}

// tokens made by jose for atls ear verify: one it must accept, and ones it must refuse
async function signTokens(keyPath, outdir) {
  const priv = await jose.importPKCS8(readFileSync(keyPath, 'utf8'), 'ES256', { extractable: true });
  const { d, ...pubJwk } = await jose.exportJWK(priv);
  void d;
  const kid = await jose.calculateJwkThumbprint(pubJwk, 'sha256');
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    eat_profile: 'tag:ietf.org,2026:rats/ear#04',
    iat: now,
    ear_verifier_id: { developer: 'jose interop test', build: '1' },
    ear_status: 'affirming',
    submods: { cpu: { ear_status: 'affirming', ear_trustworthiness_vector: { hardware: 2 },
                      ear_attester_claims: { note: 'signed by jose' } } },
  };
  const sign = (c, header, key) => new jose.SignJWT(c).setProtectedHeader(header).sign(key);
  const out = (name, token) => writeFileSync(join(outdir, name), token + '\n');
  out('accept-kid.jwt', await sign({ ...claims, exp: now + 300 }, { alg: 'ES256', typ: 'JWT', kid }, priv));
  out('accept-nokid-03.jwt', await sign({ ...claims, eat_profile: 'tag:ietf.org,2026:rats/ear#03', exp: now + 300 },
                                        { alg: 'ES256' }, priv));
  out('refuse-expired.jwt', await sign({ ...claims, iat: now - 600, exp: now - 300 }, { alg: 'ES256', kid }, priv));
  const p384 = await jose.generateKeyPair('ES384');
  out('refuse-es384.jwt', await sign({ ...claims, exp: now + 300 }, { alg: 'ES384', kid }, p384.privateKey));
  const other = await jose.generateKeyPair('ES256', { extractable: true });
  const otherKid = await jose.calculateJwkThumbprint(await jose.exportJWK(other.publicKey), 'sha256');
  out('refuse-otherkid.jwt', await sign({ ...claims, exp: now + 300 }, { alg: 'ES256', kid: otherKid }, other.privateKey));
  out('refuse-othersig.jwt', await sign({ ...claims, exp: now + 300 }, { alg: 'ES256' }, other.privateKey));
  out('refuse-profile.jwt', await sign({ ...claims, eat_profile: 'tag:ietf.org,2025-07:ear', exp: now + 300 },
                                       { alg: 'ES256', kid }, priv));
  check(true, 'jose signed the tokens for atls ear verify');
}

if (mode === 'check' && args.length === 4) await checkToken(...args);
else if (mode === 'sign' && args.length === 2) await signTokens(...args);
else { console.error('usage: jose_check.mjs check MODULES CDDL TOKEN JWK KEY | sign MODULES KEY OUTDIR'); process.exit(2); }
process.exit(failures === 0 ? 0 : 1);
