// dcap_qvl_check.js: run @phala/dcap-qvl (an independent DCAP quote verifier, npm) on one quote
// with atls-style collateral files, and print one JSON line: {"ok":true,"status":...,
// "report_data":hex,"mrtd":hex} or {"ok":false,"error":"..."}. Used by test_tdx_dcap_qvl.c.
// usage: node dcap_qvl_check.js QUOTE TCB_INFO QE_IDENTITY CHAIN_PEM ROOT_PEM ROOT_CRL PCK_CRL
//        UNIX_TIME   (CRLs in DER or PEM)
'use strict';
const fs = require('fs');
const { QuoteVerifier } = require('@phala/dcap-qvl');

// span: the exact text of the top-level member |key| (the signed bytes) and the signature
function signed(path, key) {
    const text = fs.readFileSync(path, 'utf8');
    const start = text.indexOf('"' + key + '":');
    const end = text.lastIndexOf(',"signature"');
    if (start < 0 || end < 0) throw new Error(path + ': no ' + key + '/signature');
    const body = text.slice(start + key.length + 3, end);
    return { body, signature: JSON.parse(text).signature };
}

function der(path) {
    const b = fs.readFileSync(path);
    const t = b.toString('latin1');
    const m = t.match(/-----BEGIN [A-Z0-9 ]+-----([\s\S]*?)-----END/);
    return m ? Buffer.from(m[1].replace(/\s+/g, ''), 'base64') : b;
}

const [quote, ti, qe, chain, root, rootCrl, pckCrl, at] = process.argv.slice(2);
try {
    const t = signed(ti, 'tcbInfo');
    const q = signed(qe, 'enclaveIdentity');
    const chainPem = fs.readFileSync(chain, 'utf8');
    const collateral = {
        tcb_info: t.body, tcb_info_signature: t.signature, tcb_info_issuer_chain: chainPem,
        qe_identity: q.body, qe_identity_signature: q.signature,
        qe_identity_issuer_chain: chainPem, pck_crl_issuer_chain: chainPem,
        root_ca_crl: der(rootCrl), pck_crl: der(pckCrl),
    };
    const v = QuoteVerifier.newWithRootCa(der(root));
    const r = v.verify(fs.readFileSync(quote), collateral, Number(at));
    const body = r.report && (r.report.data || r.report);
    const td = body && (body.base || body);
    const hex = (x) => (x ? Buffer.from(x).toString('hex') : '');
    console.log(JSON.stringify({ ok: true, status: r.status, report_data: hex(td && td.reportData),
                                 mrtd: hex(td && td.mrTd) }));
} catch (e) {
    const why = e && e.cause && e.cause.message ? e.message + ': ' + e.cause.message : String(e && e.message);
    console.log(JSON.stringify({ ok: false, error: why }));
}
