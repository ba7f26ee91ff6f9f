#!/usr/bin/env node
// A Sigstore service for the tests, on one 127.0.0.1 port: Fulcio (v2 and the
// legacy v1 endpoint cosign 2.x calls) with an embedded-SCT CT log, Rekor v1
// and v2, and an RFC 3161 timestamp authority. The certificate, log, SCT and
// timestamp logic is the sigstore-js mock library (`@sigstore/mock`, installed
// by scripts/setup-peers.sh into $SIGNET_PEERS/npm), an implementation
// independent of signet. This file only puts it on HTTP, adapts the wire
// differences between clients, and writes the trust files that describe it.
//
//   NODE_PATH=$SIGNET_PEERS/npm/node_modules node scripts/mock-sigstore.js OUTDIR [--port N] [--oidc-url URL]
//
// Port 0 (the default) lets the kernel choose a free port. When the server
// listens, OUTDIR/url holds its base URL (written last, so a waiting script can
// poll for it). Files in OUTDIR:
//   trusted_root.json          every service, as protobuf-specs JSON (with `operator`)
//   trusted_root.compat.json   the same without fields cosign 2.5 / sigstore-go 0.7 reject
//   signing_config.json        signing_config v0.2: Fulcio, Rekor v1 and the TSA
//   client_trust_config.json   both of the above, for sigstore-python --trust-config
//   fulcio-root.pem rekor.pub ctlog.pub tsa-chain.pem   for cosign's SIGSTORE_* variables
// Not for production: the mock CA issues to whatever token it is given (it
// never checks the token's signature) and its log holds one entry per tree.
// Rekor v2 is the library's as it is: it accepts any request, its
// `canonicalizedBody` is the library's JSON of the request rather than a
// hashedrekord 0.0.2 body, and its checkpoint (tree size 1) carries the v1 key
// hint; it exercises a client's v2 write path, not v2 verification. The
// signing config therefore lists Rekor v1 only.
'use strict';

require('reflect-metadata');
const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const path = require('path');
const x509 = require('@peculiar/x509');
const pkijs = require('pkijs');
const asn1js = require('asn1js');
const { TrustedRoot, HashAlgorithm, PublicKeyDetails } = require('@sigstore/protobuf-specs');

// Largest request body accepted; Sigstore requests are a few kilobytes.
const MAX_BODY = 1 << 20;
const OPERATOR = 'signet-test.mock';

function parseArgs(argv) {
  const args = { outDir: null, port: 0, oidcUrl: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--port') args.port = Number(argv[++i]);
    else if (a === '--oidc-url') args.oidcUrl = argv[++i];
    else if (!args.outDir) args.outDir = a;
    else throw new Error(`unexpected argument ${a}`);
  }
  if (!args.outDir || !Number.isInteger(args.port)) {
    throw new Error('usage: mock-sigstore.js OUTDIR [--port N] [--oidc-url URL]');
  }
  return args;
}

// Fulcio puts an email identity in an rfc822Name SAN and everything else in a
// URI SAN. The mock CA always asks for a URI; turn an email-shaped value back
// into an email SAN so that certificates have Fulcio's profile.
function issueEmailSans() {
  const Base = x509.SubjectAlternativeNameExtension;
  class FulcioSan extends Base {
    constructor(...args) {
      if (Array.isArray(args[0])) {
        args[0] = args[0].map((n) =>
          n && n.type === 'url' && typeof n.value === 'string' && !n.value.includes(':') && n.value.includes('@')
            ? { type: 'email', value: n.value }
            : n);
      }
      super(...args);
    }
  }
  x509.SubjectAlternativeNameExtension = FulcioSan;
}

const pem = (label, der) =>
  `-----BEGIN ${label}-----\n${Buffer.from(der).toString('base64').match(/.{1,64}/g).join('\n')}\n-----END ${label}-----\n`;

const derFromPem = (text) => Buffer.from(text.replace(/-----(BEGIN|END) [^-]+-----/g, '').replace(/\s+/g, ''), 'base64');

const bearer = (req) => {
  const h = req.headers.authorization || '';
  const m = /^bearer\s+(.+)$/i.exec(h.trim());
  return m ? m[1] : null;
};

// The claims of a JWT, unverified (the mock CA does not verify tokens either).
function jwtClaims(token) {
  const parts = String(token).split('.');
  if (parts.length !== 3) throw new Error('identity token is not a JWT');
  return JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
}

// A public key as sent by a client (PEM, base64 PEM, or base64 DER SPKI) -> PEM.
function publicKeyPem(content) {
  const text = String(content);
  if (text.startsWith('-----BEGIN')) return text;
  const raw = Buffer.from(text, 'base64');
  if (raw.toString('latin1').startsWith('-----BEGIN')) return raw.toString('utf8');
  return crypto.createPublicKey({ key: raw, format: 'der', type: 'spki' }).export({ format: 'pem', type: 'spki' });
}

// A CSR as sent by a client (PEM, or base64 of PEM as Fulcio's JSON carries it) -> PEM.
function csrPem(content) {
  const text = String(content);
  if (text.startsWith('-----BEGIN')) return text;
  const raw = Buffer.from(text, 'base64').toString('utf8');
  if (raw.startsWith('-----BEGIN')) return raw;
  return pem('CERTIFICATE REQUEST', Buffer.from(text, 'base64'));
}

// The SAN Fulcio would choose: the email for email tokens; for CI tokens the
// workflow URI `<server>/<job_workflow_ref>` (GitHub: https://github.com;
// Gitea/Forgejo: the issuer URL without `/api/actions`); otherwise `sub`.
function subjectFor(claims) {
  if (typeof claims.email === 'string' && claims.email) return claims.email;
  const ref = claims.job_workflow_ref || claims.workflow_ref;
  if (typeof ref === 'string' && ref) {
    const iss = String(claims.iss || '');
    const server = iss === 'https://token.actions.githubusercontent.com' ? 'https://github.com' : iss.replace(/\/api\/actions\/?$/, '');
    return `${server}/${ref}`;
  }
  return String(claims.sub || 'NO-SUBJECT');
}

// A TimeStampReq (RFC 3161, DER) -> the request the mock TSA takes, keeping
// the nonce as raw bytes (it may be wider than a JavaScript number).
function parseTimeStampReq(der) {
  const asn = asn1js.fromBER(new Uint8Array(der).buffer);
  if (asn.offset === -1) throw new Error('timestamp request is not DER');
  const req = new pkijs.TimeStampReq({ schema: asn.result });
  return {
    artifactHash: Buffer.from(req.messageImprint.hashedMessage.valueBlock.valueHexView),
    hashAlgorithmOID: req.messageImprint.hashAlgorithm.algorithmId,
    nonce: req.nonce ? Buffer.from(req.nonce.valueBlock.valueHexView) : null,
    policyOID: req.reqPolicy || '1.3.6.1.4.1.57264.2',
    certReq: req.certReq === true,
  };
}

// A non-negative integer as the content bytes of a DER INTEGER.
function integerBytes(n) {
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  if (parseInt(hex[0], 16) >= 8) hex = `00${hex}`;
  return Buffer.from(hex, 'hex');
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      if (size > MAX_BODY) return;
      size += c.length;
      if (size > MAX_BODY) {
        // Keep nothing more; the reply closes the connection.
        chunks.length = 0;
        reject(Object.assign(new Error(`request body larger than ${MAX_BODY} bytes`), { status: 413 }));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  issueEmailSans();
  const mock = require('@sigstore/mock');
  fs.mkdirSync(args.outDir, { recursive: true });

  const server = http.createServer();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(args.port, '127.0.0.1', resolve);
  });
  const url = `http://127.0.0.1:${server.address().port}`;

  // One key per service, so that a log key can never verify a CA signature.
  const newKey = () => crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const ctlog = await mock.initializeCTLog(newKey());
  const ca = await mock.initializeCA(newKey(), ctlog);
  const tlog = await mock.initializeTLog(url, newKey());
  const tsa = await mock.initializeTSA(newKey());
  // The TSA copies the request's nonce; keep its full width (or leave it out
  // when the request has none, as RFC 3161 asks).
  const tstInfo = tsa.tstInfo.bind(tsa);
  tsa.tstInfo = (r) => {
    const info = tstInfo({ ...r, nonce: 0 });
    if (r.nonce) info.nonce = new asn1js.Integer({ valueHex: new Uint8Array(r.nonce).buffer });
    else delete info.nonce;
    return info;
  };

  // The mock log answers every Rekor v1 entry with a tree of size 1: proof
  // index 0 and no hashes, which protobuf JSON then omits, and sigstore-python
  // refuses bundles without those fields. Put each v1 entry second in a
  // two-leaf tree (after a fixed first leaf) so that its proof has an index and
  // a hash, as a real log's proofs do. The checkpoint is a Rekor v1 signed
  // note, signed with the log key as the mock signs it.
  const firstLeaf = crypto.createHash('sha256').update(Buffer.from([0])).update('signet mock log: first leaf').digest();
  const singleLeafProof = tlog.calculateInclusionProof.bind(tlog);
  let twoLeafTree = false;
  tlog.calculateInclusionProof = (entry) => {
    if (!twoLeafTree) return singleLeafProof(entry);
    const leaf = crypto.createHash('sha256').update(Buffer.from([0])).update(entry.body).digest();
    const root = crypto.createHash('sha256').update(Buffer.from([1])).update(firstLeaf).update(leaf).digest();
    const origin = `${tlog.host} - ${crypto.randomInt(2 ** 48 - 1)}`;
    const note = `${origin}\n2\n${root.toString('base64')}\nTimestamp: ${entry.timestamp * 1e9}\n`;
    const sig = crypto.sign('sha256', Buffer.from(note), tlog.privateKey);
    const keyHint = entry.logID.subarray(0, 4);
    return {
      logIndex: 1,
      treeSize: 2,
      rootHash: root.toString('hex'),
      hashes: [firstLeaf.toString('hex')],
      checkpoint: `${note}\n\u2014 ${tlog.host} ${Buffer.concat([keyHint, sig]).toString('base64')}\n`,
    };
  };
  const logV1 = tlog.log.bind(tlog);
  tlog.log = (proposed) => {
    // log() computes the proof before its first await, so the flag covers
    // exactly this call.
    twoLeafTree = true;
    try {
      return logV1(proposed);
    } finally {
      twoLeafTree = false;
    }
  };

  const fulcioFor = {
    email: mock.fulcioHandler(ca, { strict: true, subjectClaim: 'email' }),
    other: mock.fulcioHandler(ca, { strict: true, subjectClaim: 'signet_mock_subject' }),
  };
  const rekorV1 = mock.rekorHandler(tlog, { strict: true });
  const rekorV2 = mock.rekorV2Handler(tlog, { strict: true });

  const start = new Date(Date.now() - 60 * 1000);
  const caEntry = (certs) => ({
    subject: { organization: 'sigstore.mock', commonName: 'sigstore' },
    uri: url,
    certChain: { certificates: certs.map((der) => ({ rawBytes: Buffer.from(der) })) },
    validFor: { start },
    operator: OPERATOR,
  });
  const logEntry = (spki) => ({
    baseUrl: url,
    hashAlgorithm: HashAlgorithm.SHA2_256,
    publicKey: { rawBytes: Buffer.from(spki), keyDetails: PublicKeyDetails.PKIX_ECDSA_P256_SHA_256, validFor: { start } },
    logId: { keyId: crypto.createHash('sha256').update(spki).digest() },
    operator: OPERATOR,
  });
  const trustedRoot = TrustedRoot.toJSON({
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [logEntry(tlog.publicKey)],
    certificateAuthorities: [caEntry([ca.rootCertificate])],
    ctlogs: [logEntry(ctlog.publicKey)],
    timestampAuthorities: [caEntry([tsa.intCertificate, tsa.rootCertificate])],
  });
  const service = (u, version) => ({ url: u, majorApiVersion: version, validFor: { start: start.toISOString() }, operator: OPERATOR });
  const signingConfig = {
    mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json',
    caUrls: [service(url, 1)],
    oidcUrls: args.oidcUrl ? [service(args.oidcUrl, 1)] : [],
    rekorTlogUrls: [service(url, 1)],
    rekorTlogConfig: { selector: 'ANY' },
    tsaUrls: [service(`${url}/api/v1/timestamp`, 1)],
    tsaConfig: { selector: 'ANY' },
  };
  const clientTrustConfig = {
    mediaType: 'application/vnd.dev.sigstore.clienttrustconfig.v0.1+json',
    trustedRoot,
    signingConfig,
  };
  const json = (v) => `${JSON.stringify(v, null, 2)}\n`;
  // cosign 2.5 and sigstore-go 0.7 parse with an older protobuf-specs and
  // refuse the `operator` field.
  const compat = JSON.parse(JSON.stringify(trustedRoot, (k, v) => (k === 'operator' ? undefined : v)));
  const rootPem = pem('CERTIFICATE', ca.rootCertificate);
  const tsaChainPem = pem('CERTIFICATE', tsa.intCertificate) + pem('CERTIFICATE', tsa.rootCertificate);
  const files = {
    'trusted_root.json': json(trustedRoot),
    'trusted_root.compat.json': json(compat),
    'signing_config.json': json(signingConfig),
    'client_trust_config.json': json(clientTrustConfig),
    'fulcio-root.pem': rootPem,
    'rekor.pub': pem('PUBLIC KEY', tlog.publicKey),
    'ctlog.pub': pem('PUBLIC KEY', ctlog.publicKey),
    'tsa-chain.pem': tsaChainPem,
  };
  for (const [name, body] of Object.entries(files)) fs.writeFileSync(path.join(args.outDir, name), body);

  // Fulcio v2: token in the body or as a Bearer header; CSR as PEM or base64(PEM).
  async function signingCertV2(body, req) {
    const request = JSON.parse(body.toString('utf8') || '{}');
    const token = (request.credentials && request.credentials.oidcIdentityToken) || bearer(req);
    if (!token) return { statusCode: 401, response: 'no identity token (body credentials or Authorization: Bearer)' };
    const claims = jwtClaims(token);
    const forwarded = { credentials: { oidcIdentityToken: token } };
    if (request.certificateSigningRequest) {
      forwarded.certificateSigningRequest = csrPem(request.certificateSigningRequest);
    } else if (request.publicKeyRequest && request.publicKeyRequest.publicKey) {
      forwarded.publicKeyRequest = { publicKey: { content: publicKeyPem(request.publicKeyRequest.publicKey.content) } };
    } else {
      return { statusCode: 400, response: 'neither publicKeyRequest nor certificateSigningRequest' };
    }
    if (claims.email) return fulcioFor.email.fn(JSON.stringify(forwarded));
    // Hand the mock a token whose subject claim is the SAN Fulcio would pick.
    const rewritten = { ...claims, signet_mock_subject: subjectFor(claims) };
    const enc = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
    forwarded.credentials.oidcIdentityToken = `${enc({ alg: 'none' })}.${enc(rewritten)}.`;
    return fulcioFor.other.fn(JSON.stringify(forwarded));
  }

  // Fulcio's legacy v1 endpoint, which cosign 2.x calls: the public key (DER
  // or PEM, base64) or a CSR in the body, the token as a Bearer header; the
  // reply is the PEM chain. The SCT is embedded in the certificate, so, as
  // Fulcio does then, no detached `SCT` header is sent.
  async function signingCertV1(body, req) {
    const request = JSON.parse(body.toString('utf8') || '{}');
    const v2 = { credentials: { oidcIdentityToken: bearer(req) } };
    if (request.certificateSigningRequest) v2.certificateSigningRequest = request.certificateSigningRequest;
    else if (request.publicKey) v2.publicKeyRequest = { publicKey: { content: request.publicKey.content } };
    const r = await signingCertV2(Buffer.from(JSON.stringify(v2)), { headers: {} });
    if (r.statusCode !== 201) return r;
    const chain = JSON.parse(r.response).signedCertificateEmbeddedSct.chain.certificates.join('');
    return { statusCode: 201, response: chain, contentType: 'application/pem-certificate-chain' };
  }

  async function timestamp(body, req) {
    const type = String(req.headers['content-type'] || '');
    let tsr;
    if (type.includes('json')) {
      const j = JSON.parse(body.toString('utf8'));
      tsr = {
        artifactHash: Buffer.from(j.artifactHash, 'base64'),
        hashAlgorithmOID: /512/.test(j.hashAlgorithm) ? '2.16.840.1.101.3.4.2.3' : /384/.test(j.hashAlgorithm) ? '2.16.840.1.101.3.4.2.2' : '2.16.840.1.101.3.4.2.1',
        nonce: j.nonce ? integerBytes(BigInt(j.nonce)) : null,
        policyOID: j.tsaPolicyOID || '1.3.6.1.4.1.57264.2',
        certReq: j.certificates === true,
      };
    } else {
      tsr = parseTimeStampReq(body);
    }
    return { statusCode: 201, response: await tsa.timestamp(tsr), contentType: 'application/timestamp-reply' };
  }

  const fixed = (contentType, text) => async () => ({ statusCode: 200, response: text, contentType });
  const routes = {
    'POST /api/v2/signingCert': signingCertV2,
    'POST /api/v1/signingCert': signingCertV1,
    'GET /api/v1/rootCert': fixed('application/pem-certificate-chain', rootPem),
    'GET /api/v2/trustBundle': fixed('application/json', JSON.stringify({ chains: [{ certificates: [rootPem] }] })),
    'POST /api/v1/log/entries': (body) => rekorV1.fn(body.toString('utf8')),
    'POST /api/v2/log/entries': (body) => rekorV2.fn(body.toString('utf8')),
    'GET /api/v1/log/publicKey': fixed('application/x-pem-file', files['rekor.pub']),
    'POST /api/v1/timestamp': timestamp,
    'GET /api/v1/timestamp/certchain': fixed('application/pem-certificate-chain', tsaChainPem),
    'GET /trusted_root.json': fixed('application/json', files['trusted_root.json']),
    'GET /signing_config.json': fixed('application/json', files['signing_config.json']),
    'GET /client_trust_config.json': fixed('application/json', files['client_trust_config.json']),
    'GET /healthz': fixed('text/plain', 'ok\n'),
  };

  server.on('request', async (req, res) => {
    const route = routes[`${req.method} ${req.url.split('?')[0]}`];
    let r;
    try {
      const body = await readBody(req);
      r = route ? await route(body, req) : { statusCode: 404, response: `no route for ${req.method} ${req.url}` };
    } catch (e) {
      r = { statusCode: e.status || 400, response: String(e && e.message ? e.message : e) };
    }
    const payload = typeof r.response === 'string' ? r.response : Buffer.from(r.response);
    const headers = { 'Content-Type': r.contentType || 'text/plain' };
    if (r.statusCode === 413) {
      headers.Connection = 'close';
      res.on('finish', () => req.socket.destroy());
    }
    res.writeHead(r.statusCode, headers);
    res.end(payload);
    if (r.statusCode >= 300) console.log(`${req.method} ${req.url} ${r.statusCode} ${String(r.response).slice(0, 300)}`);
    else console.log(`${req.method} ${req.url} ${r.statusCode}`);
  });

  // Written last: its presence means the server is up and every file is there.
  fs.writeFileSync(path.join(args.outDir, 'url.tmp'), `${url}\n`);
  fs.renameSync(path.join(args.outDir, 'url.tmp'), path.join(args.outDir, 'url'));
  console.log(`mock sigstore on ${url}; trust files in ${args.outDir}`);

  const stop = () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((e) => {
  console.error(`mock-sigstore: ${e && e.stack ? e.stack : e}`);
  process.exit(1);
});
