// Kosh in-browser verifier. Hand-written, dependency-free, no build step.
//
// It re-implements, for the page, the verification half of the Go packages
// proofs/jcs (RFC 8785 canonical JSON), proofs/sig (BIP-340 Schnorr over
// tagged hashes), proofs/sumtree (Merkle-sum inclusion proofs) and
// proofs/attest (attestation sums and coverage), and passes the same test
// vectors (testdata/). SHA-256 comes from WebCrypto; secp256k1 arithmetic
// uses BigInt. Verification only: nothing here handles a secret, so nothing
// needs to be constant-time.
//
// Every failure is thrown as a KoshError whose message is one plain
// sentence, mirroring the Go error messages where the vectors pin them.
"use strict";
(function (global) {
  // ---------------------------------------------------------------- errors
  class KoshError extends Error {
    constructor(kind, msg) {
      super(msg);
      this.name = "KoshError";
      this.kind = kind;
    }
  }
  function fail(kind, msg) {
    throw new KoshError(kind, msg);
  }

  // ----------------------------------------------------------------- bytes
  const enc = new TextEncoder();
  function utf8(s) {
    return enc.encode(s);
  }
  function concat(...parts) {
    let n = 0;
    for (const p of parts) n += p.length;
    const out = new Uint8Array(n);
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
  const HEX = "0123456789abcdef";
  function toHex(b) {
    let s = "";
    for (let i = 0; i < b.length; i++) s += HEX[b[i] >> 4] + HEX[b[i] & 15];
    return s;
  }
  // fromHex accepts upper or lower case (test vectors use both); use
  // isLowerHex where the format demands one spelling.
  function fromHex(s) {
    if (typeof s !== "string" || s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) {
      fail("malformed", "hex string is not valid hex");
    }
    const out = new Uint8Array(s.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(s.substr(2 * i, 2), 16);
    return out;
  }
  function isLowerHex(s, n) {
    return typeof s === "string" && s.length === n && /^[0-9a-f]*$/.test(s);
  }
  function equalBytes(a, b) {
    if (a.length !== b.length) return false;
    let d = 0;
    for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
    return d === 0;
  }
  function u32be(n) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, n, false);
    return b;
  }
  function u64be(v) {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(v), false);
    return b;
  }
  function bytesToBig(b) {
    let v = 0n;
    for (let i = 0; i < b.length; i++) v = (v << 8n) | BigInt(b[i]);
    return v;
  }
  function bigToBytes32(v) {
    const b = new Uint8Array(32);
    for (let i = 31; i >= 0; i--) {
      b[i] = Number(v & 0xffn);
      v >>= 8n;
    }
    return b;
  }

  // --------------------------------------------------------------- hashing
  async function sha256(bytes) {
    if (!global.crypto || !global.crypto.subtle) {
      fail("environment", "this browser offers no WebCrypto here (the page must be served over HTTPS), so it cannot hash");
    }
    return new Uint8Array(await global.crypto.subtle.digest("SHA-256", bytes));
  }
  const tagPrefixes = new Map();
  async function tagPrefix(tag) {
    let p = tagPrefixes.get(tag);
    if (!p) {
      const t = await sha256(utf8(tag));
      p = concat(t, t);
      tagPrefixes.set(tag, p);
    }
    return p;
  }
  // taggedHash(tag, ...parts) = SHA256(SHA256(tag) || SHA256(tag) || parts...)
  async function taggedHash(tag, ...parts) {
    return sha256(concat(await tagPrefix(tag), ...parts));
  }

  // ---------------------------------------------------- RFC 8785 (JCS)
  function hasLoneSurrogate(s) {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff) {
        const d = s.charCodeAt(i + 1);
        if (!(d >= 0xdc00 && d <= 0xdfff)) return true;
        i++;
      } else if (c >= 0xdc00 && c <= 0xdfff) {
        return true;
      }
    }
    return false;
  }
  // serialize writes a parsed JSON value in canonical form. JSON.stringify of
  // a string escapes exactly what RFC 8785 escapes (", \, control characters,
  // short forms for \b \t \n \f \r, lower-case \u00xx otherwise) once lone
  // surrogates are excluded, and JSON.stringify of a finite number is the
  // ECMAScript Number-to-String RFC 8785 adopts (-0 becomes 0).
  function serialize(v, depth) {
    if (depth > 512) fail("malformed", "JSON nests deeper than 512 levels");
    if (v === null || v === true || v === false) return String(v);
    switch (typeof v) {
      case "number":
        if (!Number.isFinite(v)) fail("malformed", "JSON number is not finite");
        return JSON.stringify(v);
      case "string":
        if (hasLoneSurrogate(v)) fail("malformed", "JSON string holds a lone UTF-16 surrogate");
        return JSON.stringify(v);
      case "object":
        if (Array.isArray(v)) {
          return "[" + v.map((x) => serialize(x, depth + 1)).join(",") + "]";
        }
        // Default sort compares UTF-16 code units: the order RFC 8785 wants.
        return (
          "{" +
          Object.keys(v)
            .sort()
            .map((k) => serialize(k, depth + 1) + ":" + serialize(v[k], depth + 1))
            .join(",") +
          "}"
        );
    }
    fail("malformed", "value has no JSON form");
  }
  // canonicalize returns the canonical text of a JSON text or value.
  function canonicalize(textOrValue) {
    const v = typeof textOrValue === "string" ? JSON.parse(textOrValue) : textOrValue;
    return serialize(v, 0);
  }
  // decodeUTF8 decodes strictly: invalid UTF-8 throws, a BOM is kept (and
  // then rejected by JSON.parse).
  function decodeUTF8(bytes) {
    try {
      return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
    } catch (e) {
      fail("malformed", "the document is not valid UTF-8");
    }
  }
  // isCanonical says whether bytes are exactly the canonical form of the
  // JSON they hold. Duplicate member names, whitespace, unsorted members,
  // non-shortest numbers all make it false.
  function isCanonical(bytes) {
    let text;
    try {
      text = decodeUTF8(bytes);
      return canonicalize(text) === text;
    } catch (e) {
      return false;
    }
  }

  // --------------------------------------------------- secp256k1, BIP-340
  const P = 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2fn;
  const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
  const GX = 0x79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798n;
  const GY = 0x483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8n;
  const mod = (a, m = P) => {
    const r = a % m;
    return r >= 0n ? r : r + m;
  };
  function powMod(b, e, m) {
    let r = 1n;
    b = mod(b, m);
    while (e > 0n) {
      if (e & 1n) r = (r * b) % m;
      b = (b * b) % m;
      e >>= 1n;
    }
    return r;
  }
  function invMod(a, m = P) {
    let [r0, r1] = [mod(a, m), m];
    let [s0, s1] = [1n, 0n];
    while (r1 !== 0n) {
      const q = r0 / r1;
      [r0, r1] = [r1, r0 - q * r1];
      [s0, s1] = [s1, s0 - q * s1];
    }
    if (r0 !== 1n) fail("math", "value has no inverse");
    return mod(s0, m);
  }
  // Jacobian points [X, Y, Z]; Z = 0 is infinity.
  const INF = [0n, 1n, 0n];
  function jDouble(p) {
    const [X, Y, Z] = p;
    if (Z === 0n || Y === 0n) return INF;
    const YY = (Y * Y) % P;
    const S = (4n * X * YY) % P;
    const M = (3n * X * X) % P; // a = 0
    const X3 = mod(M * M - 2n * S);
    const Y3 = mod(M * (S - X3) - 8n * YY * YY);
    const Z3 = (2n * Y * Z) % P;
    return [X3, Y3, Z3];
  }
  function jAdd(p, q) {
    if (p[2] === 0n) return q;
    if (q[2] === 0n) return p;
    const [X1, Y1, Z1] = p;
    const [X2, Y2, Z2] = q;
    const Z1Z1 = (Z1 * Z1) % P;
    const Z2Z2 = (Z2 * Z2) % P;
    const U1 = (X1 * Z2Z2) % P;
    const U2 = (X2 * Z1Z1) % P;
    const S1 = (Y1 * Z2 * Z2Z2) % P;
    const S2 = (Y2 * Z1 * Z1Z1) % P;
    if (U1 === U2) return S1 === S2 ? jDouble(p) : INF;
    const H = mod(U2 - U1);
    const R = mod(S2 - S1);
    const HH = (H * H) % P;
    const HHH = (H * HH) % P;
    const V = (U1 * HH) % P;
    const X3 = mod(R * R - HHH - 2n * V);
    const Y3 = mod(R * (V - X3) - S1 * HHH);
    const Z3 = (H * Z1 * Z2) % P;
    return [X3, Y3, Z3];
  }
  // mulAdd returns a*A + b*B (Shamir's trick).
  function mulAdd(a, A, b, B) {
    const AB = jAdd(A, B);
    let R = INF;
    const bitsN = Math.max(a.toString(2).length, b.toString(2).length);
    for (let i = BigInt(bitsN - 1); i >= 0n; i--) {
      R = jDouble(R);
      const x = (a >> i) & 1n;
      const y = (b >> i) & 1n;
      if (x && y) R = jAdd(R, AB);
      else if (x) R = jAdd(R, A);
      else if (y) R = jAdd(R, B);
    }
    return R;
  }
  function toAffine(p) {
    if (p[2] === 0n) return null;
    const zi = invMod(p[2]);
    const zi2 = (zi * zi) % P;
    return [(p[0] * zi2) % P, (p[1] * zi2 * zi) % P];
  }
  // liftX returns the point with x-coordinate x and even y, or null.
  function liftX(x) {
    if (x >= P) return null;
    const c = mod(x * x * x + 7n);
    const y = powMod(c, (P + 1n) / 4n, P);
    if ((y * y) % P !== c) return null;
    return [x, y & 1n ? P - y : y];
  }
  // schnorrVerify is BIP-340 Verify(pk, m, sig) for byte arrays; pk is 32
  // bytes, sig 64, m any length. It returns true or false.
  async function schnorrVerify(pk, msg, sig) {
    if (pk.length !== 32 || sig.length !== 64) return false;
    const Pt = liftX(bytesToBig(pk));
    if (!Pt) return false;
    const r = bytesToBig(sig.subarray(0, 32));
    const s = bytesToBig(sig.subarray(32, 64));
    if (r >= P || s >= N) return false;
    const e = mod(bytesToBig(await taggedHash("BIP0340/challenge", sig.subarray(0, 32), pk, msg)), N);
    // R = s*G - e*P = s*G + (n-e)*P
    const R = toAffine(mulAdd(s, [GX, GY, 1n], mod(N - e, N), [Pt[0], Pt[1], 1n]));
    if (!R) return false;
    if (R[1] & 1n) return false;
    return R[0] === r;
  }

  // ---------------------------------------------- Merkle-sum tree (sumtree)
  const MAX_SUM = (1n << 63n) - 1n;
  const MAX_HEIGHT = 32;
  const MAX_ID_LEN = 1024;
  const PROOF_VERSION = 1;
  const TAG = {
    leaf: "kosh/leaf",
    node: "kosh/node",
    pad: "kosh/pad",
    account: "kosh/account",
    salt: "kosh/salt",
    attestation: "kosh/attestation",
  };

  // parseAmount parses a canonical decimal string: digits only, no leading
  // zero unless it is 0, at most max. It returns a BigInt or null.
  function parseAmount(s, max = MAX_SUM) {
    if (typeof s !== "string" || !/^(0|[1-9][0-9]*)$/.test(s) || s.length > 20) return null;
    const v = BigInt(s);
    return v > max ? null : v;
  }
  function decodeHash32(s, what) {
    if (typeof s !== "string" || s.length !== 64) {
      fail("malformed", `${what} must be 64 hex digits, not ${typeof s === "string" ? s.length : 0} characters`);
    }
    if (!/^[0-9a-f]{64}$/.test(s)) fail("malformed", `${what} must be lowercase hex`);
    return fromHex(s);
  }
  function treeHead(seed, assetCode) {
    const a = utf8(assetCode);
    return concat(seed, u32be(a.length), a);
  }
  async function deriveSalt(seed, assetCode, accountID) {
    const id = utf8(accountID);
    return taggedHash(TAG.salt, treeHead(seed, assetCode), u32be(id.length), id);
  }
  async function commitment(salt, accountID) {
    const id = utf8(accountID);
    return taggedHash(TAG.account, salt, u32be(id.length), id);
  }
  async function leafHash(commit, balance) {
    return taggedHash(TAG.leaf, commit, u64be(balance));
  }
  async function nodeHash(lh, ls, rh, rs) {
    return taggedHash(TAG.node, lh, u64be(ls), rh, u64be(rs));
  }
  async function padHash(seed, assetCode, level, index) {
    return taggedHash(TAG.pad, treeHead(seed, assetCode), Uint8Array.of(level), u64be(index));
  }

  function checkProof(p) {
    const h = p.siblings.length;
    if (h > MAX_HEIGHT) fail("malformed", `proof height ${h} exceeds the maximum of ${MAX_HEIGHT}`);
    if (BigInt(p.leafIndex) >= 1n << BigInt(h)) {
      fail("malformed", `leaf index ${p.leafIndex} does not fit a tree of height ${h}`);
    }
    p.siblings.forEach((s, l) => {
      if (s.sum > MAX_SUM) fail("overflow", `sibling sum at level ${l} exceeds the maximum sum`);
    });
    return p;
  }
  // decodeProofBinary decodes the binary proof form (hex or bytes).
  function decodeProofBinary(b) {
    if (typeof b === "string") b = fromHex(b);
    if (b.length < 6) fail("malformed", `proof is ${b.length} bytes, shorter than its 6-byte header`);
    if (b[0] !== PROOF_VERSION) fail("malformed", `proof version ${b[0]} is unknown`);
    const h = b[1];
    if (h > MAX_HEIGHT) fail("malformed", `proof height ${h} exceeds the maximum of ${MAX_HEIGHT}`);
    if (b.length !== 6 + 40 * h) fail("malformed", `proof of height ${h} must be ${6 + 40 * h} bytes, not ${b.length}`);
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const p = { leafIndex: dv.getUint32(2, false), siblings: [] };
    for (let l = 0; l < h; l++) {
      const o = 6 + 40 * l;
      p.siblings.push({ hash: b.slice(o, o + 32), sum: dv.getBigUint64(o + 32, false) });
    }
    return checkProof(p);
  }
  const SHAPE = "proof is not JSON of the documented proof shape";
  function isInt(v, max) {
    return typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= max;
  }
  function onlyKeys(o, keys) {
    return o !== null && typeof o === "object" && !Array.isArray(o) && Object.keys(o).every((k) => keys.includes(k));
  }
  // decodeProofJSON decodes the JSON proof form (text or parsed object)
  // as strictly as the Go decoder.
  function decodeProofJSON(j) {
    if (typeof j === "string") {
      try {
        j = JSON.parse(j);
      } catch (e) {
        fail("malformed", SHAPE);
      }
    }
    if (!onlyKeys(j, ["version", "height", "leaf_index", "siblings"])) fail("malformed", SHAPE);
    const version = j.version ?? 0;
    const height = j.height ?? 0;
    const leafIndex = j.leaf_index ?? 0;
    const sibs = j.siblings ?? [];
    if (!Number.isInteger(version) || !Number.isInteger(height) || !isInt(leafIndex, 0xffffffff) || !Array.isArray(sibs)) {
      fail("malformed", SHAPE);
    }
    for (const s of sibs) {
      if (!onlyKeys(s, ["hash", "sum"]) || (s.hash !== undefined && typeof s.hash !== "string") || (s.sum !== undefined && typeof s.sum !== "string")) {
        fail("malformed", SHAPE);
      }
    }
    if (version !== PROOF_VERSION) fail("malformed", `proof version ${version} is unknown`);
    if (height < 0 || height > MAX_HEIGHT) fail("malformed", `proof height ${height} is outside 0 to ${MAX_HEIGHT}`);
    if (sibs.length !== height) fail("malformed", `proof height ${height} differs from its ${sibs.length} siblings`);
    const p = { leafIndex, siblings: [] };
    sibs.forEach((s, l) => {
      const hash = decodeHash32(s.hash ?? "", "sibling hash");
      const sum = parseAmount(s.sum ?? "");
      if (sum === null) fail("malformed", `sibling sum at level ${l} is not a decimal integer up to the maximum sum`);
      p.siblings.push({ hash, sum });
    });
    return checkProof(p);
  }
  // verifyInclusion mirrors sumtree.VerifyInclusion. root = {hash (bytes or
  // hex), sum (BigInt), height, count (BigInt)}; salt bytes; balance BigInt.
  async function verifyInclusion(root, accountID, salt, balance, proof) {
    const rootHash = typeof root.hash === "string" ? fromHex(root.hash) : root.hash;
    const count = BigInt(root.count);
    const rsum = BigInt(root.sum);
    balance = BigInt(balance);
    const idLen = utf8(accountID || "").length;
    if (!proof) fail("malformed", "the proof is missing");
    if (root.height < 0 || root.height > MAX_HEIGHT) fail("malformed", `attested tree height ${root.height} is outside 0 to ${MAX_HEIGHT}`);
    if (count > 1n << BigInt(root.height)) fail("malformed", `attested account count ${count} does not fit a tree of height ${root.height}`);
    if (rsum > MAX_SUM) fail("overflow", "the attested total exceeds the maximum sum");
    if (proof.siblings.length !== root.height) {
      fail("malformed", `proof has ${proof.siblings.length} levels but the attested tree has height ${root.height}`);
    }
    if (BigInt(proof.leafIndex) >= count) fail("malformed", `leaf index ${proof.leafIndex} is not below the attested account count ${count}`);
    if (idLen === 0 || idLen > MAX_ID_LEN) fail("malformed", `account id must be 1 to ${MAX_ID_LEN} bytes long`);
    if (balance < 0n || balance > MAX_SUM) fail("overflow", "the balance exceeds the maximum sum");
    let h = await leafHash(await commitment(salt, accountID), balance);
    let sum = balance;
    for (let l = 0; l < proof.siblings.length; l++) {
      const sib = proof.siblings[l];
      if (sib.sum > MAX_SUM) fail("overflow", `sibling sum at level ${l} exceeds the maximum sum`);
      const next = sum + sib.sum;
      if (next > MAX_SUM) fail("overflow", `sibling sum at level ${l} makes the total overflow`);
      if (((proof.leafIndex >>> l) & 1) === 0) h = await nodeHash(h, sum, sib.hash, sib.sum);
      else h = await nodeHash(sib.hash, sib.sum, h, sum);
      sum = next;
    }
    if (!equalBytes(h, rootHash)) fail("mismatch", "root hash does not match the attested root");
    if (sum !== rsum) fail("mismatch", "root total does not match the attested total");
  }



  // ------------------------------------------ Lightning node signatures
  // lnd's SignMessage: compact recoverable ECDSA over
  // SHA256(SHA256("Lightning Signed Message:" || msg)), zbase32-encoded.
  const ZB32 = "ybndrfg8ejkmcpqxot1uwisza345h769";
  function zbase32Decode(str) {
    let bits = 0, acc = 0;
    const out = [];
    for (const ch of str) {
      const v = ZB32.indexOf(ch);
      if (v < 0) fail("signature", `node signature "${str}" is not zbase32`);
      acc = (acc << 5) | v;
      bits += 5;
      if (bits >= 8) {
        bits -= 8;
        out.push((acc >> bits) & 0xff);
        acc &= (1 << bits) - 1;
      }
    }
    return Uint8Array.from(out);
  }
  async function nodeMessageDigest(msg) {
    return sha256(await sha256(concat(utf8("Lightning Signed Message:"), msg)));
  }
  function compressPoint(x, y) {
    return concat(Uint8Array.of(y & 1n ? 3 : 2), bigToBytes32(x));
  }
  // recoverNodeKey returns the compressed key (hex) that made a zbase32
  // compact signature over msg.
  async function recoverNodeKey(msg, zsig) {
    const c = zbase32Decode(zsig);
    if (c.length !== 65) fail("signature", `node signature "${zsig}" decodes to ${c.length} bytes instead of 65`);
    const h = c[0] - 27;
    if (h < 0 || h > 7) fail("signature", `node signature "${zsig}" is not a valid recoverable signature`);
    const recid = BigInt(h & 3);
    const r = bytesToBig(c.subarray(1, 33));
    const s = bytesToBig(c.subarray(33, 65));
    if (r === 0n || s === 0n || r >= N || s >= N) fail("signature", `node signature "${zsig}" is not a valid recoverable signature`);
    const x = r + (recid & 2n ? N : 0n);
    const R = liftX(x);
    if (!R) fail("signature", `node signature "${zsig}" is not a valid recoverable signature`);
    const Ry = (R[1] & 1n) === (recid & 1n) ? R[1] : P - R[1];
    const e = mod(bytesToBig(await nodeMessageDigest(msg)), N);
    const ri = invMod(r, N);
    // Q = r^-1 (s R - e G)
    const Q = toAffine(mulAdd(mod(ri * s, N), [R[0], Ry, 1n], mod(N - ri * e % N, N), [GX, GY, 1n]));
    if (!Q) fail("signature", `node signature "${zsig}" is not a valid recoverable signature`);
    return toHex(compressPoint(Q[0], Q[1]));
  }
  // verifyNodeMessage mirrors sig.VerifyNodeMessage; it throws a KoshError.
  async function verifyNodeMessage(msg, zsig, nodeKeyHex) {
    if (!isLowerHex(nodeKeyHex, 66)) fail("signature", `node key "${nodeKeyHex}" is not 66 lower-case hex characters`);
    const got = await recoverNodeKey(msg, zsig);
    if (got !== nodeKeyHex) fail("signature", `node signature was made by ${got}, not by the listed node ${nodeKeyHex}`);
  }

  // ------------------------------------------------------ attestations
  // The checks of proofs/attest (docs/proofs.md) that need no node: canonical
  // form, id, issuer signature, every class total against the listed items
  // and counting rules, and the coverage arithmetic in exact rationals.
  // Lightning node signatures (lnd SignMessage, ECDSA) are left to
  // koshverify.
  const BPS = 10000n;
  const SATS_PER_BTC = 100000000n;
  const MAX_DOC = 64 << 20;
  function amount(v, what) {
    const a = parseAmount(v);
    if (a === null) fail("malformed", `the ${what} is not a decimal amount up to 2^63-1`);
    return a;
  }
  function bigint(v, what) {
    if (typeof v !== "string" || !/^(0|[1-9][0-9]{0,77})$/.test(v)) fail("malformed", `the ${what} is not a decimal integer`);
    return BigInt(v);
  }
  function applyRule(eligible, r) {
    const h = BigInt(r.haircut_bps);
    if (!r.counts || h < 0n || h > BPS) return 0n;
    return (eligible * (BPS - h)) / BPS;
  }
  function computeTotals(a) {
    const minConf = a.counting.min_confirmations;
    let listed = 0n, eligible = 0n;
    for (const u of a.reserves.onchain) {
      const v = amount(u.value, `value of output ${u.outpoint}`);
      listed += v;
      if (u.confirmations >= minConf) eligible += v;
    }
    let capacity = 0n, local = 0n, counted = 0n;
    for (const n of a.reserves.lightning) {
      for (const c of n.channels) {
        const cap = amount(c.capacity, `capacity of channel ${c.channel_point}`);
        const lb = amount(c.local_balance, `local balance of channel ${c.channel_point}`);
        const ct = amount(c.counted, `counted amount of channel ${c.channel_point}`);
        if (lb > cap) fail("sum", `channel ${c.channel_point} claims a local balance of ${lb} sats, more than its capacity of ${cap} sats`);
        if (ct > lb) fail("sum", `channel ${c.channel_point} counts ${ct} sats, more than its local balance of ${lb} sats`);
        if (ct > 0n && c.confirmations < minConf) {
          fail("sum", `channel ${c.channel_point} counts ${ct} sats with ${c.confirmations} confirmations, fewer than the ${minConf} the counting rules require`);
        }
        if (ct > 0n && !n.signature) fail("sum", `channel ${c.channel_point} counts ${ct} sats although its node ${n.pubkey} did not sign the attestation`);
        capacity += cap;
        local += lb;
        counted += ct;
      }
    }
    const t = {
      onchain: { listed, eligible, counted: applyRule(eligible, a.counting.onchain) },
      lightning: { capacity, local_balance: local, eligible: counted, counted: applyRule(counted, a.counting.lightning) },
    };
    t.counted = t.onchain.counted + t.lightning.counted;
    for (const v of [listed, eligible, capacity, local, counted, t.counted]) {
      if (v > MAX_SUM) fail("overflow", "the reserves add up to more than 2^63-1 sats");
    }
    return t;
  }
  // requiredSats returns [num, den]: the sats total base units of asset need
  // at bps basis points of coverage.
  function requiredSats(as, bps) {
    const total = amount(as.liabilities.total, `liability total of ${as.code}`);
    let num = total * BigInt(bps);
    let den = BPS;
    if (as.peg === "sat") return [num, den];
    if (as.peg !== "fiat") fail("malformed", `asset ${as.code} has an unknown peg "${as.peg}"`);
    if (total === 0n && !as.price) return [0n, 1n];
    const p = as.price;
    const coef = p ? bigint(p.coefficient, `price of ${as.code}`) : 0n;
    if (!p || coef <= 0n) fail("coverage", `asset ${as.code} is pegged to ${as.currency} and has liabilities but no usable price`);
    if (p.scale < 0 || p.scale > 18 || as.decimals < 0 || as.decimals > 18) fail("malformed", `asset ${as.code} has a price scale or decimals outside 0 to 18`);
    num = num * SATS_PER_BTC * 10n ** BigInt(p.scale);
    den = den * 10n ** BigInt(as.decimals) * coef;
    return [num, den];
  }
  function ceilDiv(n, d) {
    return (n + d - 1n) / d;
  }
  function computeCoverage(reserves, assets) {
    let nN = 0n, nD = 1n, bN = 0n, bD = 1n;
    for (const as of assets) {
      const [rn, rd] = requiredSats(as, as.min_coverage_bps);
      const [bn, bd] = requiredSats(as, BPS);
      nN = nN * rd + rn * nD;
      nD *= rd;
      bN = bN * bd + bn * bD;
      bD *= bd;
    }
    const required = ceilDiv(nN, nD);
    const backing = ceilDiv(bN, bD);
    if (required > MAX_SUM || backing > MAX_SUM) fail("overflow", "the liabilities are worth more than 2^63-1 sats");
    const bps = bN > 0n ? (reserves * bD * BPS) / bN : 0n;
    return { counted_reserves: reserves, required, backing, bps, backed: reserves >= required };
  }

  // The attestation's shape (proofs/attest): every member, no others. "?"
  // marks members left out when empty.
  const AMT = "amount", INT = "int", STR = "str", BOOL = "bool", BIG = "bigint";
  const RULE = { counts: BOOL, haircut_bps: INT };
  const SCHEMA = {
    version: INT, seq: INT, issuer_key: STR, time: STR, prev: STR,
    block: { height: INT, hash: STR },
    journal_cutoff: AMT,
    counting: { min_confirmations: INT, onchain: RULE, lightning: RULE },
    reserves: {
      onchain: [{ outpoint: STR, value: AMT, confirmations: INT, "?descriptor": STR, "?address": STR, source: STR }],
      lightning: [{ name: STR, pubkey: STR, channels: [{ channel_point: STR, capacity: AMT, confirmations: INT, local_balance: AMT, counted: AMT }], "?signature": STR }],
      totals: { onchain: { listed: AMT, eligible: AMT, counted: AMT }, lightning: { capacity: AMT, local_balance: AMT, eligible: AMT, counted: AMT }, counted: AMT },
    },
    assets: [{ code: STR, decimals: INT, peg: STR, "?currency": STR,
      "?price": { currency: STR, coefficient: BIG, scale: INT, time: STR, manual: BOOL, "?spread_bps": INT,
        "?sources": [{ name: STR, coefficient: BIG, scale: INT, time: STR }] },
      min_coverage_bps: INT, liabilities: { root: STR, total: AMT, height: INT, accounts: AMT } }],
    coverage: { counted_reserves: AMT, required: AMT, backing: AMT, bps: BIG, backed: BOOL },
    stale: BOOL, stale_sources: [STR], "?signature": STR,
  };
  function shapeFail(what) {
    fail("malformed", `the document does not have the attestation shape (${what})`);
  }
  function checkShape(v, sc, path) {
    if (Array.isArray(sc)) {
      if (!Array.isArray(v)) shapeFail(`${path} is not a list`);
      v.forEach((x, i) => checkShape(x, sc[0], `${path}[${i}]`));
      return;
    }
    if (typeof sc === "object") {
      if (v === null || typeof v !== "object" || Array.isArray(v)) shapeFail(`${path} is not an object`);
      for (const k of Object.keys(v)) {
        if (!(k in sc) && !(("?" + k) in sc)) shapeFail(`json: unknown field "${k}"`);
      }
      for (const [key, sub] of Object.entries(sc)) {
        const opt = key.startsWith("?");
        const k = opt ? key.slice(1) : key;
        if (!(k in v)) {
          if (!opt) shapeFail(`${path ? path + "." : ""}${k} is missing`);
          continue;
        }
        if (opt && (v[k] === "" || v[k] === null)) shapeFail(`${path ? path + "." : ""}${k} is empty where it must be left out`);
        checkShape(v[k], sub, path ? `${path}.${k}` : k);
      }
      return;
    }
    switch (sc) {
      case AMT:
        if (typeof v !== "string") shapeFail(`amount ${JSON.stringify(v)} is not a decimal string`);
        if (parseAmount(v) === null) shapeFail(`amount "${v}" is not a canonical decimal up to 2^63-1`);
        return;
      case BIG:
        if (typeof v !== "string" || !/^(0|[1-9][0-9]{0,77})$/.test(v)) shapeFail(`integer ${JSON.stringify(v)} is not a decimal string`);
        return;
      case INT:
        if (!Number.isSafeInteger(v)) shapeFail(`${path} is not an integer`);
        return;
      case STR:
        if (typeof v !== "string") shapeFail(`${path} is not a string`);
        return;
      case BOOL:
        if (typeof v !== "boolean") shapeFail(`${path} is not true or false`);
        return;
    }
  }
  // splitOutpoint parses "txid:vout" (64 lower-case hex, canonical vout
  // below 2^32) or returns null.
  function splitOutpoint(s) {
    const m = /^([0-9a-f]{64}):(0|[1-9][0-9]{0,9})$/.exec(s);
    if (!m || Number(m[2]) > 0xffffffff) return null;
    return [m[1], Number(m[2])];
  }
  function cmpOutpoint(a, b) {
    if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
    return a[1] - b[1];
  }
  // checkStructure: outpoints well formed, sorted, each listed once; nodes
  // and channels sorted; stale flag consistent. Messages as proofs/attest.
  function checkStructure(a) {
    // The shape rules of proofs/attest checkShape that are not sums.
    if (a.seq < 1) fail("malformed", `the attestation sequence number ${a.seq} is not positive`);
    if (a.prev === "" && a.seq !== 1) fail("chain", `attestation ${a.seq} names no predecessor, but only the first attestation may do so`);
    if (a.prev !== "" && !isLowerHex(a.prev, 64)) fail("malformed", `the previous attestation hash "${a.prev}" is not 64 lower-case hex digits`);
    if (a.prev !== "" && a.seq === 1) fail("chain", `the first attestation names a predecessor ${a.prev}`);
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(a.time)) fail("malformed", `the attestation time "${a.time}" is not of the form 2006-01-02T15:04:05Z`);
    if (a.block.height < 0) fail("malformed", `the block height ${a.block.height} is negative`);
    if (!isLowerHex(a.block.hash, 64)) fail("malformed", `the block hash "${a.block.hash}" is not 64 lower-case hex digits`);
    if (a.counting.min_confirmations < 0) fail("malformed", `the minimum confirmations ${a.counting.min_confirmations} is negative`);
    for (const [name, r] of [["onchain", a.counting.onchain], ["lightning", a.counting.lightning]]) {
      if (r.haircut_bps < 0 || r.haircut_bps > 10000) fail("malformed", `the ${name} haircut of ${r.haircut_bps} basis points is outside 0 to 10000`);
    }
    for (const u of a.reserves.onchain) {
      if (BigInt(u.value) <= 0n) fail("malformed", `on-chain output ${u.outpoint} has no value`);
      if (u.confirmations < 1 || u.confirmations > a.block.height + 1) fail("malformed", `on-chain output ${u.outpoint} has ${u.confirmations} confirmations, impossible at block height ${a.block.height}`);
      if (u.source === "") fail("malformed", `on-chain output ${u.outpoint} names no source`);
    }
    for (const n of a.reserves.lightning) {
      if (!isLowerHex(n.pubkey, 66)) fail("malformed", `Lightning node "${n.name}" has key "${n.pubkey}", not 66 lower-case hex digits`);
      for (const c of n.channels) {
        if (BigInt(c.capacity) <= 0n) fail("malformed", `channel ${c.channel_point} has no capacity`);
        if (c.confirmations < 0 || c.confirmations > a.block.height + 1) fail("malformed", `channel ${c.channel_point} has ${c.confirmations} confirmations, impossible at block height ${a.block.height}`);
      }
    }
    a.assets.forEach((as, i) => {
      if (i > 0 && a.assets[i - 1].code >= as.code) fail("malformed", `asset ${as.code} is out of order or repeated (assets must be sorted by code)`);
      if (as.decimals < 0 || as.decimals > 18) fail("malformed", `asset ${as.code} has ${as.decimals} decimals, outside 0 to 18`);
      if (as.peg === "fiat" && !/^[A-Z]{3}$/.test(as.currency || "")) fail("malformed", `fiat-pegged asset ${as.code} has currency ${JSON.stringify(as.currency || "")}, not a three-letter ISO 4217 code`);
      if (as.min_coverage_bps < 0 || as.min_coverage_bps > 1000000) fail("malformed", `asset ${as.code} has a minimum coverage of ${as.min_coverage_bps} basis points, outside 0 to 1000000`);
      const l = as.liabilities;
      if (!isLowerHex(l.root, 64)) fail("malformed", `the liability root of asset ${as.code} is not 64 lower-case hex digits`);
      if (l.height < 0 || l.height > 32) fail("malformed", `the liability tree of asset ${as.code} has height ${l.height}, outside 0 to 32`);
      else if (BigInt(l.accounts) > 1n << BigInt(l.height)) fail("malformed", `asset ${as.code} claims ${l.accounts} accounts, more than a tree of height ${l.height} holds`);
      if (BigInt(l.accounts) === 0n && BigInt(l.total) !== 0n) fail("sum", `asset ${as.code} has no accounts but a liability total of ${l.total}`);
    });
    a.stale_sources.forEach((src, i) => {
      if (src === "" || (i > 0 && a.stale_sources[i - 1] >= src)) fail("malformed", "the stale sources are not distinct non-empty names in sorted order");
    });
    const seen = new Map();
    let prev = null;
    for (const [i, u] of a.reserves.onchain.entries()) {
      const op = splitOutpoint(u.outpoint);
      if (!op) fail("malformed", `on-chain output ${i} has outpoint "${u.outpoint}", not txid:vout`);
      if (prev && cmpOutpoint(prev, op) >= 0) fail("malformed", `on-chain output ${u.outpoint} is out of order or repeated (outputs must be sorted by txid, then vout)`);
      prev = op;
      seen.set(u.outpoint, "an on-chain output");
    }
    let prevNode = null;
    for (const n of a.reserves.lightning) {
      if (prevNode !== null && prevNode >= n.pubkey) fail("malformed", `Lightning node ${n.pubkey} is out of order or repeated (nodes must be sorted by key)`);
      prevNode = n.pubkey;
      let prevCh = null;
      for (const c of n.channels) {
        const op = splitOutpoint(c.channel_point);
        if (!op) fail("malformed", `a channel of node ${n.pubkey} has channel point "${c.channel_point}", not txid:vout`);
        if (prevCh && cmpOutpoint(prevCh, op) >= 0) fail("malformed", `channel ${c.channel_point} is out of order or repeated (channels must be sorted by channel point)`);
        prevCh = op;
        const what = `a channel of node ${n.pubkey}`;
        if (seen.has(c.channel_point)) fail("sum", `outpoint ${c.channel_point} is listed both as ${seen.get(c.channel_point)} and as ${what}`);
        seen.set(c.channel_point, what);
      }
    }
    if (a.stale && a.stale_sources.length === 0) fail("malformed", "the attestation is marked stale but names no stale source");
    if (!a.stale && a.stale_sources.length > 0) fail("malformed", "the attestation names stale sources but is not marked stale");
    for (const as of a.assets) if (as.price) checkPriceSources(as.code, as.price);
  }
  // checkPriceSources: a price listing oracle sources is their lower median
  // and states their largest deviation, rounded up (proofs/attest
  // Price.checkSources).
  function checkPriceSources(code, p) {
    const src = p.sources || [];
    const spread = BigInt(p.spread_bps || 0);
    if (src.length === 0) {
      if (spread !== 0n) fail("malformed", `the price of asset ${code} states a spread but lists no sources`);
      return;
    }
    if (p.manual) fail("malformed", `the manual price of asset ${code} lists oracle sources`);
    // Values as fractions n / 10^scale, compared at a common scale of 18.
    const at18 = (c, scale) => bigint(c, `price of ${code}`) * 10n ** BigInt(18 - scale);
    const vals = [];
    src.forEach((s, i) => {
      if (s.name === "" || (i > 0 && src[i - 1].name >= s.name)) fail("malformed", `the price sources of asset ${code} are not distinct non-empty names in sorted order`);
      if (s.scale < 0 || s.scale > 18 || bigint(s.coefficient, `price source ${s.name}`) <= 0n) fail("malformed", `price source ${s.name} of asset ${code} has no positive price with a scale of 0 to 18`);
      vals.push(at18(s.coefficient, s.scale));
    });
    const price = at18(p.coefficient, p.scale);
    const sorted = vals.slice().sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
    if (sorted[Math.floor((sorted.length - 1) / 2)] !== price) fail("sum", `the price of asset ${code} is not the lower median of its ${vals.length} sources`);
    let most = 0n;
    for (const v of vals) {
      const d = (v > price ? v - price : price - v) * BPS;
      const q = d / price + (d % price === 0n ? 0n : 1n);
      if (q > most) most = q;
    }
    if (most !== spread) fail("sum", `the price of asset ${code} states a spread of ${spread} basis points, but its sources deviate by up to ${most}`);
  }
  // nodeMessage is what each Lightning node signs: "kosh/attestation:" and
  // the hex tagged hash of the document without any signature.
  async function nodeMessage(doc) {
    const c = withoutSignature(doc);
    c.reserves = Object.assign({}, c.reserves, {
      lightning: c.reserves.lightning.map((n) => {
        const m = Object.assign({}, n);
        delete m.signature;
        return m;
      }),
    });
    return utf8("kosh/attestation:" + toHex(await taggedHash(TAG.attestation, utf8(serialize(c, 0)))));
  }
  async function checkNodeSignatures(doc) {
    const msg = await nodeMessage(doc);
    for (const n of doc.reserves.lightning) {
      if (!n.signature) continue;
      try {
        await verifyNodeMessage(msg, n.signature, n.pubkey);
      } catch (e) {
        fail("signature", `the signature of Lightning node ${JSON.stringify(n.name)} (${n.pubkey}) does not verify over this attestation: ${e.message}`);
      }
    }
  }

  function withoutSignature(doc) {
    const c = Object.assign({}, doc);
    delete c.signature;
    return c;
  }
  // attestationID returns the hex id (the signed digest) of a parsed
  // document: TaggedHash("kosh/attestation", canonical bytes without the
  // top-level "signature" member).
  async function attestationID(doc) {
    return toHex(await taggedHash(TAG.attestation, utf8(serialize(withoutSignature(doc), 0))));
  }
  // parseAttestation checks that bytes are a canonical attestation document
  // and returns it parsed, with its id.
  async function parseAttestation(bytes) {
    if (typeof bytes === "string") bytes = utf8(bytes);
    if (bytes.length > MAX_DOC) fail("malformed", "the document is larger than the 64 MiB limit");
    const text = decodeUTF8(bytes);
    let doc;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      fail("malformed", "the document is not valid JSON");
    }
    if (!isCanonical(bytes)) fail("canonical", "the document is not in RFC 8785 canonical form, so its hash would differ from the signed one");
    if (doc === null || typeof doc !== "object" || Array.isArray(doc)) fail("malformed", "the document is not a JSON object");
    if (doc.version !== 1) fail("malformed", `the attestation has version ${doc.version}, but this verifier reads version 1`);
    checkShape(doc, SCHEMA, "");
    return { doc, id: await attestationID(doc) };
  }
  // verifyAttestation checks a published document (bytes). expect may name
  // the id and issuer key the page displays. It resolves to a summary or
  // throws a KoshError whose message is the sentence that failed.
  async function verifyAttestation(bytes, expect = {}) {
    const { doc, id } = await parseAttestation(bytes);
    if (!isLowerHex(doc.issuer_key, 64)) fail("malformed", "the issuer key is not 64 lower-case hex digits");
    if (!isLowerHex(doc.signature, 128)) fail("signature", "the issuer signature is missing or is not 128 lower-case hex digits");
    const ok = await schnorrVerify(fromHex(doc.issuer_key), fromHex(id), fromHex(doc.signature));
    if (!ok) fail("signature", `the issuer signature does not verify under issuer key ${doc.issuer_key}`);
    if (expect.key && doc.issuer_key !== expect.key) fail("key", `the document is signed by key ${doc.issuer_key}, not by the issuer key ${expect.key} this page shows`);
    if (expect.id && id !== expect.id) fail("id", `the document's hash is ${id}, not the attestation id ${expect.id} this page shows`);
    await checkNodeSignatures(doc);
    checkStructure(doc);

    const want = computeTotals(doc);
    const got = doc.reserves.totals || {};
    const g = (o, k, what) => amount((o || {})[k], what);
    const check = (what, stated, computed, items) => {
      if (stated !== computed) fail("sum", `the ${what} is ${stated} sats but ${items} ${computed} sats`);
    };
    const mc = doc.counting.min_confirmations;
    check("on-chain reserve total", g(got.onchain, "listed", "on-chain listed total"), want.onchain.listed, "the listed outputs add up to");
    check("eligible on-chain total", g(got.onchain, "eligible", "eligible on-chain total"), want.onchain.eligible, `the outputs with at least ${mc} confirmations add up to`);
    check("counted on-chain total", g(got.onchain, "counted", "counted on-chain total"), want.onchain.counted, "the counting rules give");
    check("Lightning capacity total", g(got.lightning, "capacity", "Lightning capacity total"), want.lightning.capacity, "the listed channel capacities add up to");
    check("Lightning local balance total", g(got.lightning, "local_balance", "Lightning local balance total"), want.lightning.local_balance, "the listed local balances add up to");
    check("eligible Lightning total", g(got.lightning, "eligible", "eligible Lightning total"), want.lightning.eligible, "the channels' counted amounts add up to");
    check("counted Lightning total", g(got.lightning, "counted", "counted Lightning total"), want.lightning.counted, "the counting rules give");
    check("counted reserve total", g(got, "counted", "counted reserve total"), want.counted, "the counted classes add up to");

    const cov = computeCoverage(want.counted, doc.assets);
    const c = doc.coverage;
    const cr = amount(c.counted_reserves, "coverage's counted reserves");
    if (cr !== want.counted) fail("coverage", `the coverage is computed on ${cr} sats of reserves but the counted reserve total is ${want.counted} sats`);
    const req = amount(c.required, "required reserves");
    if (req !== cov.required) fail("coverage", `the required reserves are stated as ${req} sats but the liabilities at each asset's minimum coverage need ${cov.required} sats`);
    const back = amount(c.backing, "backing");
    if (back !== cov.backing) fail("coverage", `the liabilities are stated to be worth ${back} sats but they are worth ${cov.backing} sats`);
    const bps = bigint(c.bps, "coverage");
    if (bps !== cov.bps) fail("coverage", `the coverage is stated as ${bps} basis points but the reserves and liabilities give ${cov.bps}`);
    if (c.backed !== cov.backed) {
      fail("coverage", c.backed
        ? `the attestation says the liabilities are backed, but ${want.counted} sats of counted reserves are less than the ${cov.required} sats required`
        : `the attestation says the liabilities are not backed, but ${want.counted} sats of counted reserves meet the ${cov.required} sats required`);
    }
    return { id, doc, seq: doc.seq, counted: want.counted, backing: cov.backing, required: cov.required, bps: cov.bps, backed: cov.backed, stale: !!doc.stale };
  }
  // parseBundle decodes an inclusion bundle strictly (proofs/attest
  // Bundle): unknown members are rejected.
  function parseBundle(text) {
    let b;
    try {
      b = JSON.parse(text);
    } catch (e) {
      fail("malformed", "the inclusion bundle is not valid JSON");
    }
    if (!onlyKeys(b, ["version", "attestation", "asset", "account", "salt", "balance", "proof"])) {
      fail("malformed", "the inclusion bundle is not of the documented shape");
    }
    if (b.version !== 1) fail("malformed", `the inclusion bundle has version ${b.version}, but this verifier reads version 1`);
    if (!b.proof) fail("malformed", "the inclusion bundle holds no proof");
    if (typeof b.account !== "string" || typeof b.asset !== "string" || typeof b.attestation !== "string") {
      fail("malformed", "the inclusion bundle is not of the documented shape");
    }
    const salt = decodeHash32(b.salt, "salt");
    const balance = amount(b.balance, "balance");
    const proof = decodeProofJSON(b.proof);
    return { attestation: b.attestation, asset: b.asset, account: b.account, salt, balance, proof };
  }
  // verifyBundle checks a bundle (text) against a verified attestation
  // (the result of verifyAttestation).
  async function verifyBundle(att, text) {
    const b = parseBundle(text);
    if (b.attestation !== att.id) fail("inclusion", `the inclusion proof is for attestation ${b.attestation}, not for this attestation ${att.id}`);
    const as = att.doc.assets.find((x) => x.code === b.asset);
    if (!as) fail("inclusion", `the attestation lists no asset "${b.asset}"`);
    const l = as.liabilities;
    if (!isLowerHex(l.root, 64)) fail("malformed", `the liability root of asset ${as.code} is not 64 lower-case hex digits`);
    const root = { hash: l.root, sum: amount(l.total, "liability total"), height: l.height, count: amount(l.accounts, "account count") };
    try {
      await verifyInclusion(root, b.account, b.salt, b.balance, b.proof);
    } catch (e) {
      fail("inclusion", `account ${b.account} with balance ${b.balance} is not in the ${b.asset} liability tree of this attestation: ${e.message}`);
    }
    return { account: b.account, asset: b.asset, balance: b.balance, decimals: as.decimals };
  }


  // verifyChain mirrors attest.VerifyChain over verified documents (the
  // results of verifyAttestation), oldest first; anchor is the id of the
  // first one or "". It throws with the first broken link.
  function verifyChain(list, anchor) {
    if (list.length === 0) fail("chain", "the chain holds no attestation");
    const first = list[0];
    if (anchor) {
      if (first.id !== anchor) fail("chain", `the chain starts at attestation ${first.doc.seq} with hash ${first.id}, not at the given first attestation ${anchor}`);
    } else if (first.doc.prev !== "" || first.doc.seq !== 1) {
      fail("chain", `the chain starts at attestation ${first.doc.seq}, which names predecessor ${first.doc.prev}, and no first attestation was given to stop at`);
    }
    for (let i = 1; i < list.length; i++) {
      const p = list[i - 1].doc, c = list[i].doc, id = list[i - 1].id;
      if (c.prev !== id) fail("chain", `attestation ${c.seq} names predecessor ${c.prev || "none"} but the attestation before it, number ${p.seq}, has hash ${id}`);
      if (c.seq !== p.seq + 1) fail("chain", `attestation ${c.seq} follows attestation ${p.seq}; sequence numbers must rise by one`);
      if (c.issuer_key !== p.issuer_key) fail("chain", `attestation ${c.seq} is signed by issuer key ${c.issuer_key} but attestation ${p.seq} by ${p.issuer_key}`);
      if (c.block.height < p.block.height) fail("chain", `attestation ${c.seq} is at block height ${c.block.height}, below the ${p.block.height} of attestation ${p.seq}`);
      if (c.time < p.time) fail("chain", `attestation ${c.seq} is dated ${c.time}, before attestation ${p.seq} dated ${p.time}`);
      if (BigInt(c.journal_cutoff) < BigInt(p.journal_cutoff)) fail("chain", `attestation ${c.seq} has journal cut-off ${c.journal_cutoff}, below the ${p.journal_cutoff} of attestation ${p.seq}`);
    }
  }

  // runVectors checks testdata/attest/vectors.json; t.ok(cond, what)
  // records each check (see web/testdata/vectors.js).
  async function runVectors(v, t) {
    const norm = (m) => m.replace(/\.$/, "").replace(/^./, (c) => c.toLowerCase());
    const verified = [];
    for (const c of v.valid) {
      try {
        const r = await verifyAttestation(utf8(c.document), { key: v.issuer_key });
        t.ok(r.id === c.hash, `valid ${c.name}: id ${r.id}, want ${c.hash}`);
        t.ok(serialize(withoutSignature(r.doc), 0) === c.unsigned, `valid ${c.name}: unsigned form differs`);
        const nm = new TextDecoder().decode(await nodeMessage(r.doc));
        t.ok(nm === c.node_message, `valid ${c.name}: node message ${nm}, want ${c.node_message}`);
        verified.push(r);
      } catch (e) {
        t.ok(false, `valid ${c.name}: ${e.message}`);
      }
    }
    try {
      const chain = [];
      for (const d of v.chain) chain.push(await verifyAttestation(utf8(d)));
      verifyChain(chain, "");
      t.ok(true);
    } catch (e) {
      t.ok(false, `chain: ${e.message}`);
    }
    for (const c of v.invalid) {
      try {
        await verifyAttestation(utf8(c.document));
        t.ok(false, `invalid "${c.name}" verifies`);
      } catch (e) {
        t.ok(c.errors.includes(norm(e.message)), `invalid "${c.name}": "${e.message}" is not among the Go verifier's errors ${JSON.stringify(c.errors)}`);
      }
    }
    for (const c of v.chain_invalid) {
      try {
        const list = [];
        for (const d of c.chain) list.push(await verifyAttestation(utf8(d)));
        verifyChain(list, c.anchor);
        t.ok(!c.errors, `chain "${c.name}" verifies, want ${JSON.stringify(c.errors)}`);
      } catch (e) {
        t.ok(!!c.errors && c.errors.includes(norm(e.message)), `chain "${c.name}": "${e.message}" is not among ${JSON.stringify(c.errors)}`);
      }
    }
    for (const c of v.bundles) {
      // Receipts are koshverify's business; the page checks the inclusion.
      const want = c.receipt ? "" : c.error;
      const att = verified[c.attestation];
      try {
        await verifyBundle(att, JSON.stringify(c.bundle));
        t.ok(want === "", `bundle "${c.name}" verifies, want "${want}"`);
      } catch (e) {
        t.ok(norm(e.message) === want, `bundle "${c.name}": "${e.message}", want "${want}"`);
      }
    }
  }
  global.KoshVerify = {
    KoshError,
    util: { utf8, concat, toHex, fromHex, isLowerHex, equalBytes, u64be, bytesToBig, bigToBytes32, decodeUTF8 },
    sha256,
    taggedHash,
    jcs: { canonicalize, isCanonical, serialize },
    schnorrVerify,
    sumtree: {
      MAX_SUM,
      TAG,
      parseAmount,
      deriveSalt,
      commitment,
      leafHash,
      nodeHash,
      padHash,
      decodeProofBinary,
      decodeProofJSON,
      verifyInclusion,
    },
    node: { zbase32Decode, nodeMessageDigest, recoverNodeKey, verifyNodeMessage },
    attest: { runVectors, verifyChain, checkShape, nodeMessage, computeTotals, computeCoverage, attestationID, parseAttestation, verifyAttestation, parseBundle, verifyBundle },
  };
})(globalThis);
