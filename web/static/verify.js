// Kosh in-browser verifier. Hand-written, dependency-free, no build step.
//
// It re-implements, for the page, the verification half of the Go packages
// proofs/jcs (RFC 8785 canonical JSON), proofs/sig (BIP-340 Schnorr over
// tagged hashes, lnd node signatures), proofs/sumtree (Merkle-sum inclusion
// proofs of version 1 trees, share-set proofs of version 2 trees, and the
// ChaCha8Rand shuffle for the vectors), proofs/attest (attestation versions 1 to 3: shape, sums,
// coverage; inclusion bundles versions 1 and 2), proofs/control (BIP-127 proofs of control, for the script
// types wallets use; others are reported as unchecked) and the holder's
// policy of proofs/verify (checkPolicy), and passes the same test vectors
// (testdata/). SHA-256 comes from WebCrypto; secp256k1
// arithmetic and RIPEMD-160 are written here. Verification only: nothing
// here handles a secret, so nothing needs to be constant-time.
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
  // mulAdd returns a*A + b*B for scalars in [0, N): each scalar split in
  // two of about 128 bits with the secp256k1 endomorphism (GLV: λ·(x, y) =
  // (β·x, y)), and the four products summed in one pass of 128 doublings
  // over width-5 NAFs. About twice as fast as plain double-and-add, which
  // matters for attestations with thousands of proven outputs.
  const GLV = {
    beta: 0x7ae96a2b657c07106e64479eac3434e99cf0497512f58995c1396c28719501een,
    a1: 0x3086d221a7d46bcde86c90e49284eb15n,
    b1: -0xe4437ed6010e88286f547fa90abfe4c3n,
    a2: 0x114ca50f7a8e2f3f657c1108d9d44cfd8n,
  };
  const POW_2_128 = 1n << 128n;
  function glvSplit(k) {
    const near = (x) => (x + N / 2n) / N;
    const c1 = near(GLV.a1 * k), c2 = near(-GLV.b1 * k);
    let k1 = mod(k - c1 * GLV.a1 - c2 * GLV.a2, N);
    let k2 = mod(-c1 * GLV.b1 - c2 * GLV.a1, N);
    const n1 = k1 > POW_2_128, n2 = k2 > POW_2_128;
    if (n1) k1 = N - k1;
    if (n2) k2 = N - k2;
    return [k1, n1, k2, n2];
  }
  // wnaf5 returns the width-5 non-adjacent form of k, least significant
  // digit first: odd digits in -15 … 15, or 0.
  function wnaf5(k) {
    const out = [];
    while (k > 0n) {
      let d = 0;
      if (k & 1n) {
        d = Number(k & 31n);
        if (d >= 16) d -= 32;
        k -= BigInt(d);
      }
      out.push(d);
      k >>= 1n;
    }
    return out;
  }
  // oddMultiples returns P, 3P, …, 15P.
  function oddMultiples(p) {
    const t = [p];
    const p2 = jDouble(p);
    for (let i = 1; i < 8; i++) t.push(jAdd(t[i - 1], p2));
    return t;
  }
  const jNeg = (p) => [p[0], p[2] === 0n ? p[1] : mod(-p[1]), p[2]];
  let gTables = null; // G's tables, made once
  function tables(pt) {
    const isG = pt[0] === GX && pt[1] === GY && pt[2] === 1n;
    if (isG && gTables) return gTables;
    const t = oddMultiples(pt);
    const tb = t.map((q) => [mod(q[0] * GLV.beta), q[1], q[2]]);
    const r = { t, tNeg: t.map(jNeg), tb, tbNeg: tb.map(jNeg) };
    if (isG) gTables = r;
    return r;
  }
  function mulAdd(a, A, b, B) {
    const terms = [];
    for (const [k, pt] of [[a, A], [b, B]]) {
      const [k1, n1, k2, n2] = glvSplit(mod(k, N));
      const t = tables(pt);
      terms.push([wnaf5(k1), n1 ? t.tNeg : t.t, n1 ? t.t : t.tNeg], [wnaf5(k2), n2 ? t.tbNeg : t.tb, n2 ? t.tb : t.tbNeg]);
    }
    let R = INF;
    const len = Math.max(...terms.map((x) => x[0].length));
    for (let i = len - 1; i >= 0; i--) {
      R = jDouble(R);
      for (const [digits, pos, neg] of terms) {
        const d = digits[i];
        if (d > 0) R = jAdd(R, pos[(d - 1) >> 1]);
        else if (d < 0) R = jAdd(R, neg[(-d - 1) >> 1]);
      }
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
    const n = typeof s === "string" ? utf8(s).length : 0;
    if (n !== 64) fail("malformed", `${what} must be 64 hex digits, not ${n} characters`);
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
  // decodeProofJSON decodes the JSON proof form as strictly as the Go
  // decoder: text is read with strictRead (PROOF_SCHEMA); a parsed object
  // is one strictRead already checked (a bundle's proof). Then the same
  // checks as sumtree's UnmarshalJSON, in the same order.
  function decodeProofJSON(j) {
    if (typeof j === "string") {
      const r = strictRead(utf8(j), PROOF_SCHEMA);
      if (r.error) fail("malformed", r.error.syntax ? `proof is not valid JSON (${r.error.msg})` : `proof is not JSON of the documented proof shape (${r.error.msg})`);
      j = r.value;
    }
    const { version, height, leaf_index: leafIndex, siblings: sibs } = j;
    if (version !== PROOF_VERSION) fail("malformed", `proof version ${version} is unknown`);
    if (height < 0 || height > MAX_HEIGHT) fail("malformed", `proof height ${height} is outside 0 to ${MAX_HEIGHT}`);
    if (sibs.length !== height) fail("malformed", `proof height ${height} differs from its ${sibs.length} siblings`);
    if (leafIndex < 0 || leafIndex > 0xffffffff) fail("malformed", `proof leaf index ${leafIndex} is outside 0 to ${0xffffffff}`);
    const p = { leafIndex, siblings: [] };
    sibs.forEach((s, l) => {
      const hash = decodeHash32(s.hash, "sibling hash");
      const sum = parseAmount(s.sum);
      if (sum === null) fail("malformed", `sibling sum at level ${l} is not a decimal integer up to the maximum sum`);
      p.siblings.push({ hash, sum });
    });
    return checkProof(p);
  }
  // checkPadSibling enforces the published account count on the sibling at
  // level l of the proof for position leafIndex (docs/proofs.md §3.12): it
  // covers positions s·2^l … (s+1)·2^l − 1 with s = (leafIndex >> l) XOR 1;
  // when all of them are at or past the count it is a pad, whose sum is 0
  // (its hash needs the seed, so only the sum can be checked).
  function checkPadSibling(leafIndex, l, count, sum) {
    const lo = ((BigInt(leafIndex) >> BigInt(l)) ^ 1n) << BigInt(l);
    if (lo >= count && sum !== 0n) {
      fail("mismatch", `sibling at level ${l} lies past the attested account count ${count}, so it must be padding with sum 0, but its sum is ${sum}`);
    }
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
      checkPadSibling(proof.leafIndex, l, count, sib.sum);
      const next = sum + sib.sum;
      if (next > MAX_SUM) fail("overflow", `sibling sum at level ${l} makes the total overflow`);
      if (((proof.leafIndex >>> l) & 1) === 0) h = await nodeHash(h, sum, sib.hash, sib.sum);
      else h = await nodeHash(sib.hash, sib.sum, h, sum);
      sum = next;
    }
    if (!equalBytes(h, rootHash)) fail("mismatch", "root hash does not match the attested root");
    if (sum !== rsum) fail("mismatch", "root total does not match the attested total");
  }

  // ------------------------------- Merkle-sum tree, version 2 (sumtree2)
  // docs/proofs.md 3.15, proofs/sumtree sharehash.go, shareproof.go,
  // shareencoding.go: every balance split into k shares derived from the
  // salt, leaves bound to the tree id, the asset and the account's last
  // journal sequence, and one share-set proof per account. A verifier needs
  // commitment2, leafHash2, splitShares, the decoders and verifyShares; the
  // tree id, the shuffles and the pads need the secret seed and are here
  // for the test vectors (and for an issuer written in JS).
  const SHARE_PROOF_VERSION = 2;
  const MAX_ASSET_CODE_LEN = 64;
  const MAX_LEAF_INDEX = 0xffffffff;
  const MASK64 = (1n << 64n) - 1n;
  const TAG2 = {
    tree: "kosh/tree",
    account2: "kosh/account/2",
    split: "kosh/split",
    leaf2: "kosh/leaf/2",
    shuffle: "kosh/shuffle",
    window: "kosh/window",
  };
  const validShares = (k) => k === 1 || k === 2 || k === 4;
  const cmpBig = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

  // treeID is TaggedHash("kosh/tree", head): the public id of one asset's
  // version 2 tree in one attestation (3.15.2).
  async function treeID(seed, assetCode) {
    return taggedHash(TAG2.tree, treeHead(seed, assetCode));
  }
  // commitment2 is TaggedHash("kosh/account/2", treeID ‖ salt ‖
  // u32be(len(asset)) ‖ asset ‖ u64be(seq) ‖ u32be(len(id)) ‖ id) (3.15.3).
  async function commitment2(treeId, salt, assetCode, seq, accountID) {
    const a = utf8(assetCode);
    const id = utf8(accountID);
    return taggedHash(TAG2.account2, treeId, salt, u32be(a.length), a, u64be(seq), u32be(id.length), id);
  }
  // leafHash2 is TaggedHash("kosh/leaf/2", commitment ‖ u8(k) ‖ u8(i) ‖
  // u64be(share)): share i of k (3.15.6).
  async function leafHash2(commit, k, i, share) {
    return taggedHash(TAG2.leaf2, commit, Uint8Array.of(k, i), u64be(share));
  }
  // splitShares returns the k shares (BigInts) the salt derives from a
  // balance (3.15.4, sumtree.SplitShares): d = TaggedHash("kosh/split",
  // salt), cuts c_j = the high 64 bits of u64be(d[8j…]) · (balance + 1),
  // sorted, cut [0, balance] into k parts. k is 1, 2 or 4, the balance at
  // most MAX_SUM (the caller's business, as in Go).
  async function splitShares(salt, balance, k) {
    balance = BigInt(balance);
    if (k === 1) return [balance];
    const d = await taggedHash(TAG2.split, salt);
    const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
    const cuts = [];
    for (let j = 0; j < k - 1; j++) cuts.push((dv.getBigUint64(8 * j, false) * (balance + 1n)) >> 64n);
    cuts.sort(cmpBig);
    const out = [];
    let prev = 0n;
    for (const c of cuts) {
      out.push(c - prev);
      prev = c;
    }
    out.push(balance - prev);
    return out;
  }
  // shuffleKey is TaggedHash("kosh/shuffle", head), the key of the account
  // shuffle (3.8 step 1, 3.15.5 step 1).
  async function shuffleKey(seed, assetCode) {
    return taggedHash(TAG2.shuffle, treeHead(seed, assetCode));
  }
  // windowKey is TaggedHash("kosh/window", head ‖ u64be(g)), the key of
  // window g's share shuffle (3.15.5 step 3).
  async function windowKey(seed, assetCode, g) {
    return taggedHash(TAG2.window, treeHead(seed, assetCode), u64be(g));
  }

  // chacha8Round computes one round of C2SP ChaCha8Rand (docs/proofs.md 3.8
  // step 2) from the 8 key words: 16 ChaCha blocks of 8 rounds, counter
  // c = 0 … 15 in word 12, the input added back to words 4–11 only, each
  // group of four blocks serialized word by word (interleaved), 1024 bytes.
  const CHACHA_CONST = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574];
  function chacha8Round(key) {
    const out = new Uint8Array(1024);
    const dv = new DataView(out.buffer);
    const x = new Uint32Array(16);
    const qr = (a, b, c, d) => {
      x[a] += x[b]; x[d] ^= x[a]; x[d] = (x[d] << 16) | (x[d] >>> 16);
      x[c] += x[d]; x[b] ^= x[c]; x[b] = (x[b] << 12) | (x[b] >>> 20);
      x[a] += x[b]; x[d] ^= x[a]; x[d] = (x[d] << 8) | (x[d] >>> 24);
      x[c] += x[d]; x[b] ^= x[c]; x[b] = (x[b] << 7) | (x[b] >>> 25);
    };
    for (let c = 0; c < 16; c++) {
      x.set(CHACHA_CONST, 0);
      x.set(key, 4);
      x[12] = c;
      x[13] = x[14] = x[15] = 0;
      for (let r = 0; r < 4; r++) {
        qr(0, 4, 8, 12); qr(1, 5, 9, 13); qr(2, 6, 10, 14); qr(3, 7, 11, 15);
        qr(0, 5, 10, 15); qr(1, 6, 11, 12); qr(2, 7, 8, 13); qr(3, 4, 9, 14);
      }
      for (let w = 4; w < 12; w++) x[w] += key[w - 4];
      const base = 256 * (c >> 2) + 4 * (c & 3);
      for (let w = 0; w < 16; w++) dv.setUint32(base + 16 * w, x[w], true);
    }
    return out;
  }
  // ChaCha8Rand returns next(), the generator of C2SP chacha8rand (Go's
  // math/rand/v2 ChaCha8) seeded with 32 bytes: each round gives 124
  // little-endian uint64s (BigInts), and its last 32 bytes re-key the next.
  function ChaCha8Rand(seed) {
    const keyOf = (b, o) => {
      const dv = new DataView(b.buffer, b.byteOffset + o, 32);
      const k = new Uint32Array(8);
      for (let w = 0; w < 8; w++) k[w] = dv.getUint32(4 * w, true);
      return k;
    };
    let key = keyOf(seed, 0);
    let buf = null, dv = null, i = 124;
    return () => {
      if (i === 124) {
        buf = chacha8Round(key);
        dv = new DataView(buf.buffer);
        key = keyOf(buf, 992);
        i = 0;
      }
      return dv.getBigUint64(8 * i++, true);
    };
  }
  // uniform draws from [0, bound) by Lemire's method (3.8 step 3).
  function uniform(next, bound) {
    bound = BigInt(bound);
    let m = next() * bound;
    if ((m & MASK64) < bound) {
      const t = ((1n << 64n) - bound) % bound;
      while ((m & MASK64) < t) m = next() * bound;
    }
    return m >> 64n;
  }
  // shuffle returns the Fisher–Yates shuffle of 0 … n−1 keyed by key (3.8
  // steps 2–4): order[p] is the entry placed at p. Used with shuffleKey for
  // the account order and with windowKey for a window's share slots.
  function shuffle(key, n) {
    const next = ChaCha8Rand(key);
    const order = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Number(uniform(next, i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    return order;
  }

  // A decoded share-set proof is {height, shares: [{position (number),
  // amount (BigInt)}], siblings: [{hash (32 bytes), sum (BigInt)}]}.
  // checkShareProof enforces what Go's ShareProof.check does.
  function checkShareProof(p) {
    const k = p.shares.length;
    if (p.height < 0 || p.height > MAX_HEIGHT) fail("malformed", `proof height ${p.height} is outside 0 to ${MAX_HEIGHT}`);
    if (!validShares(k)) fail("malformed", `proof has ${k} shares, not 1, 2 or 4`);
    if (p.siblings.length > k * p.height) {
      fail("malformed", `proof has ${p.siblings.length} siblings, more than ${k} shares of height ${p.height} can need`);
    }
    p.shares.forEach((s, i) => {
      if (BigInt(s.position) >= 1n << BigInt(p.height)) {
        fail("malformed", `share ${i}'s position ${s.position} does not fit a tree of height ${p.height}`);
      }
      if (s.amount > MAX_SUM) fail("overflow", `share ${i} exceeds the maximum sum`);
    });
    p.siblings.forEach((s, l) => {
      if (s.sum > MAX_SUM) fail("overflow", `sibling ${l}'s sum exceeds the maximum sum`);
    });
    return p;
  }
  // decodeShareProofBinary decodes the binary form (hex or bytes), 3.15.7:
  // u8 version = 2 ‖ u8 H ‖ u8 k ‖ k × (u32 position ‖ u64 amount) ‖
  // u8 count ‖ count × (32-byte hash ‖ u64 sum), with Go's sentences.
  function decodeShareProofBinary(b) {
    if (typeof b === "string") b = fromHex(b);
    if (b.length < 3) fail("malformed", `proof is ${b.length} bytes, shorter than its header`);
    if (b[0] !== SHARE_PROOF_VERSION) fail("malformed", `proof version ${b[0]} is unknown`);
    const k = b[2];
    const at = 3 + 12 * k;
    if (b.length < at + 1) fail("malformed", `proof is ${b.length} bytes, shorter than its ${k} shares need`);
    const count = b[at];
    const want = 4 + 12 * k + 40 * count;
    if (b.length !== want) fail("malformed", `proof of ${k} shares and ${count} siblings must be ${want} bytes, not ${b.length}`);
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const p = { height: b[1], shares: [], siblings: [] };
    for (let i = 0; i < k; i++) {
      const o = 3 + 12 * i;
      p.shares.push({ position: dv.getUint32(o, false), amount: dv.getBigUint64(o + 4, false) });
    }
    for (let l = 0; l < count; l++) {
      const o = at + 1 + 40 * l;
      p.siblings.push({ hash: b.slice(o, o + 32), sum: dv.getBigUint64(o + 32, false) });
    }
    return checkShareProof(p);
  }
  // decodeShareProofJSON decodes the JSON form as strictly as Go's
  // ShareProof.UnmarshalJSON: text is read with strictRead
  // (SHARE_PROOF_SCHEMA, Go's ShareProofShape); a parsed object is one
  // strictRead already checked. Then, in Go's order, the version, the
  // height, the share count, each position and amount, each sibling's hash
  // and sum, and checkShareProof.
  function decodeShareProofJSON(j) {
    if (typeof j === "string") {
      const r = strictRead(utf8(j), SHARE_PROOF_SCHEMA);
      if (r.error) {
        fail("malformed", r.error.syntax ? `proof is not valid JSON (${r.error.msg})` : `proof is not JSON of the documented share-set proof shape (${r.error.msg})`);
      }
      j = r.value;
    }
    const { version, height, shares, siblings } = j;
    if (version !== SHARE_PROOF_VERSION) fail("malformed", `proof version ${version} is unknown`);
    if (height < 0 || height > MAX_HEIGHT) fail("malformed", `proof height ${height} is outside 0 to ${MAX_HEIGHT}`);
    if (!validShares(shares.length)) fail("malformed", `proof has ${shares.length} shares, not 1, 2 or 4`);
    const p = { height, shares: [], siblings: [] };
    shares.forEach((s, i) => {
      if (s.position < 0 || s.position > MAX_LEAF_INDEX) fail("malformed", `share ${i}'s position ${s.position} is outside 0 to ${MAX_LEAF_INDEX}`);
      const amount = parseAmount(s.amount);
      if (amount === null) fail("malformed", `share ${i}'s amount is not a decimal integer up to the maximum sum`);
      p.shares.push({ position: s.position, amount });
    });
    siblings.forEach((s, l) => {
      const hash = decodeHash32(s.hash, "sibling hash");
      const sum = parseAmount(s.sum);
      if (sum === null) fail("malformed", `sibling ${l}'s sum is not a decimal integer up to the maximum sum`);
      p.siblings.push({ hash, sum });
    });
    return checkShareProof(p);
  }
  // shareLeaves mirrors ShareRoot.Leaves: the leaf count count·shares, or
  // null when it does not fit the height.
  function shareLeaves(count, shares, height) {
    const n = BigInt(count) * BigInt(shares);
    if (n > MASK64 || height < 0 || height > MAX_HEIGHT || n > 1n << BigInt(height)) return null;
    return n;
  }
  // verifyShares mirrors sumtree.VerifyShares (3.15.8), check for check and
  // sentence for sentence. root = {hash (bytes or hex), sum (BigInt),
  // height, count (BigInt: the accounts), shares (k), window (w), treeID
  // (bytes or hex)}; seq and balance BigInts; salt bytes; proof a decoded
  // share-set proof.
  async function verifyShares(root, assetCode, accountID, seq, salt, balance, proof) {
    const rootHash = typeof root.hash === "string" ? fromHex(root.hash) : root.hash;
    const tid = typeof root.treeID === "string" ? fromHex(root.treeID) : root.treeID;
    const count = BigInt(root.count);
    const rsum = BigInt(root.sum);
    const { height, shares: k, window: w } = root;
    seq = BigInt(seq);
    balance = BigInt(balance);
    const leaves = shareLeaves(count, k, height);
    const assetLen = utf8(assetCode || "").length;
    const idLen = utf8(accountID || "").length;
    if (!proof) fail("malformed", "the proof is missing");
    if (height < 0 || height > MAX_HEIGHT) fail("malformed", `attested tree height ${height} is outside 0 to ${MAX_HEIGHT}`);
    if (!validShares(k)) fail("malformed", `attested share count ${k} is not 1, 2 or 4`);
    if (w < 0 || w > height) fail("malformed", `attested window ${w} is outside 0 to the tree height ${height}`);
    if (leaves === null) fail("malformed", `attested account count ${count} of ${k} shares does not fit a tree of height ${height}`);
    if (count > 0n && 2 ** w < k) fail("malformed", `attested window ${w} cannot hold ${k} shares`);
    if (rsum > MAX_SUM) fail("overflow", "the attested total exceeds the maximum sum");
    if (proof.height !== height) fail("malformed", `proof has height ${proof.height} but the attested tree has height ${height}`);
    if (proof.shares.length !== k) {
      fail("malformed", `proof has ${proof.shares.length} shares but the attested tree splits every balance into ${k}`);
    }
    if (assetLen === 0 || assetLen > MAX_ASSET_CODE_LEN) fail("malformed", `asset code must be 1 to ${MAX_ASSET_CODE_LEN} bytes long`);
    if (idLen === 0 || idLen > MAX_ID_LEN) fail("malformed", `account id must be 1 to ${MAX_ID_LEN} bytes long`);
    if (balance < 0n || balance > MAX_SUM) fail("overflow", "the balance exceeds the maximum sum");
    if (seq < 0n || seq > MAX_SUM) fail("malformed", "the journal sequence exceeds the maximum");
    const want = await splitShares(salt, balance, k);
    const c = await commitment2(tid, salt, assetCode, seq, accountID);
    const bw = BigInt(w);
    const win = BigInt(proof.shares[0].position) >> bw;
    let known = [];
    for (let i = 0; i < k; i++) {
      const s = proof.shares[i];
      const pos = BigInt(s.position);
      if (pos >= leaves) fail("malformed", `share ${i} is at position ${pos}, not below the attested ${leaves} leaves`);
      if (pos >> bw !== win) {
        fail("malformed", `share ${i} is at position ${pos}, outside the window of share 0 (positions ${win << bw} to ${((win + 1n) << bw) - 1n})`);
      }
      if (s.amount !== want[i]) fail("mismatch", `share ${i} is ${s.amount}, but the salt splits the balance ${balance} into ${want.join(", ")}`);
      known.push({ index: pos, hash: await leafHash2(c, k, i, s.amount), sum: s.amount });
    }
    known.sort((a, b) => cmpBig(a.index, b.index));
    for (let i = 1; i < k; i++) {
      if (known[i].index === known[i - 1].index) fail("malformed", `two shares are at position ${known[i].index}`);
    }
    // The fold, in the canonical order of 3.15.7.
    let used = 0;
    for (let l = 0; l < height; l++) {
      const next = [];
      for (let j = 0; j < known.length; j++) {
        const a = known[j];
        let left, right;
        if ((a.index & 1n) === 0n && j + 1 < known.length && known[j + 1].index === a.index + 1n) {
          left = a;
          right = known[++j];
        } else {
          if (used === proof.siblings.length) fail("malformed", `proof has ${proof.siblings.length} siblings, fewer than its paths need`);
          const sib = proof.siblings[used++];
          if (sib.sum > MAX_SUM) fail("overflow", `sibling sum at level ${l} exceeds the maximum sum`);
          if ((a.index ^ 1n) << BigInt(l) >= leaves && sib.sum !== 0n) {
            fail("mismatch", `sibling at level ${l} lies past the attested ${leaves} leaves, so it must be padding with sum 0, but its sum is ${sib.sum}`);
          }
          left = a;
          right = sib;
          if ((a.index & 1n) === 1n) [left, right] = [right, left];
        }
        const s = left.sum + right.sum;
        if (s > MAX_SUM) fail("overflow", `a node sum at level ${l + 1} overflows`);
        next.push({ index: a.index >> 1n, hash: await nodeHash(left.hash, left.sum, right.hash, right.sum), sum: s });
      }
      known = next;
    }
    if (used !== proof.siblings.length) fail("malformed", `proof has ${proof.siblings.length} siblings, more than the ${used} its paths need`);
    // Unreachable: positions below 2^height meet at the root.
    if (known.length !== 1) fail("malformed", "the share paths do not meet at the root");
    if (!equalBytes(known[0].hash, rootHash)) fail("mismatch", "root hash does not match the attested root");
    if (known[0].sum !== rsum) fail("mismatch", "root total does not match the attested total");
  }



  // ------------------------------------------ Lightning node signatures
  // lnd's SignMessage: compact recoverable ECDSA over
  // SHA256(SHA256("Lightning Signed Message:" || msg)), zbase32-encoded.
  const ZB32 = "ybndrfg8ejkmcpqxot1uwisza345h769";
  // zbase32Decode decodes a node signature as sig.RecoverNodeKey does (with
  // github.com/tv42/zbase32), with its sentences: every byte one of the 32
  // lower-case characters, then exactly 65 bytes, which only 104 characters
  // give (Go's decoder counts 1, 1, 2, 2, 3, 4, 4 bytes for 1 to 7
  // characters after a multiple of 8: 105 characters are 66 bytes, not 65
  // with 5 bits dropped).
  function zbase32Decode(str) {
    const raw = utf8(str);
    raw.forEach((c, i) => {
      if (c >= 0x80 || ZB32.indexOf(String.fromCharCode(c)) < 0) fail("signature", `node signature ${goQuote(str)} is not zbase32: illegal z-base-32 data at input byte ${i}`);
    });
    const n = 5 * Math.floor(raw.length / 8) + [0, 1, 1, 2, 2, 3, 4, 4][raw.length % 8];
    if (n !== 65) fail("signature", `node signature ${goQuote(str)} decodes to ${n} bytes instead of 65`);
    let bits = 0, acc = 0;
    const out = [];
    for (const c of raw) {
      acc = (acc << 5) | ZB32.indexOf(String.fromCharCode(c));
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
    // The checks and sentences of btcec's RecoverCompact (dcrd's
    // secp256k1/ecdsa), in its order.
    const bad = (why) => fail("signature", `node signature ${goQuote(zsig)} is not a valid recoverable signature: invalid signature: ${why}`);
    if (c[0] < 27 || c[0] > 34) bad(`public key recovery code ${c[0]} is not in the valid range [27, 34]`);
    const recid = BigInt((c[0] - 27) & 3);
    const r = bytesToBig(c.subarray(1, 33));
    const s = bytesToBig(c.subarray(33, 65));
    if (r >= N) bad("R >= group order");
    if (r === 0n) bad("R is 0");
    if (s >= N) bad("S >= group order");
    if (s === 0n) bad("S is 0");
    if (recid & 2n && r >= P - N) bad("signature R + N >= P");
    const x = r + (recid & 2n ? N : 0n);
    const R = liftX(x);
    if (!R) bad("not for a valid curve point");
    const Ry = (R[1] & 1n) === (recid & 1n) ? R[1] : P - R[1];
    const e = mod(bytesToBig(await nodeMessageDigest(msg)), N);
    const ri = invMod(r, N);
    // Q = r^-1 (s R - e G)
    const Q = toAffine(mulAdd(mod(ri * s, N), [R[0], Ry, 1n], mod(N - ri * e % N, N), [GX, GY, 1n]));
    if (!Q) bad("recovered pubkey is the point at infinity");
    return toHex(compressPoint(Q[0], Q[1]));
  }
  // verifyNodeMessage mirrors sig.VerifyNodeMessage; it throws a KoshError.
  async function verifyNodeMessage(msg, zsig, nodeKeyHex) {
    if (!isLowerHex(nodeKeyHex, 66)) fail("signature", `node key "${nodeKeyHex}" is not 66 lower-case hex characters`);
    const got = await recoverNodeKey(msg, zsig);
    if (got !== nodeKeyHex) fail("signature", `node signature was made by ${got}, not by the listed node ${nodeKeyHex}`);
  }

  // ------------------------------------------------ RIPEMD-160, HASH160
  // RIPEMD-160 (Dobbertin, Bosselaers, Preneel), for HASH160 =
  // RIPEMD160(SHA256(x)) of P2PKH and P2WPKH; WebCrypto has no RIPEMD.
  // rl and rr are the left and right lines' message word orders, one hex
  // digit per step; sl and sr their rotations; kl and kr their constants.
  const RMD = {
    rl: "0123456789abcdef74d1a6f3c0952eb83ae49f812706db5c19ba08c4d37fe56240597c2ae138b6fd",
    rr: "5e7092b4d6f81a3c6b370d5aef8c4912f5137e69b8c2a04d86413bf05c2d97aecfa4158762de039b",
    sl: [11, 14, 15, 12, 5, 8, 7, 9, 11, 13, 14, 15, 6, 7, 9, 8, 7, 6, 8, 13, 11, 9, 7, 15, 7, 12, 15, 9, 11, 7, 13, 12, 11, 13, 6, 7, 14, 9, 13, 15, 14, 8, 13, 6, 5, 12, 7, 5, 11, 12, 14, 15, 14, 15, 9, 8, 9, 14, 5, 6, 8, 6, 5, 12, 9, 15, 5, 11, 6, 8, 13, 12, 5, 12, 13, 14, 11, 8, 5, 6],
    sr: [8, 9, 9, 11, 13, 15, 15, 5, 7, 7, 8, 11, 14, 14, 12, 6, 9, 13, 15, 7, 12, 8, 9, 11, 7, 7, 12, 7, 6, 15, 13, 11, 9, 7, 15, 11, 8, 6, 6, 14, 12, 13, 5, 14, 13, 13, 7, 5, 15, 5, 8, 11, 14, 14, 6, 14, 6, 9, 12, 9, 12, 5, 15, 8, 8, 5, 12, 9, 12, 5, 14, 6, 8, 13, 6, 5, 15, 13, 11, 11],
    kl: [0x00000000, 0x5a827999, 0x6ed9eba1, 0x8f1bbcdc, 0xa953fd4e],
    kr: [0x50a28be6, 0x5c4dd124, 0x6d703ef3, 0x7a6d76e9, 0x00000000],
  };
  function rmdF(j, x, y, z) {
    if (j < 16) return x ^ y ^ z;
    if (j < 32) return (x & y) | (~x & z);
    if (j < 48) return (x | ~y) ^ z;
    if (j < 64) return (x & z) | (y & ~z);
    return x ^ (y | ~z);
  }
  function ripemd160(msg) {
    const n = msg.length;
    const padded = new Uint8Array(((n + 8) >> 6) * 64 + 64);
    padded.set(msg);
    padded[n] = 0x80;
    const dv = new DataView(padded.buffer);
    dv.setUint32(padded.length - 8, (n * 8) >>> 0, true);
    dv.setUint32(padded.length - 4, Math.floor(n / 0x20000000), true);
    let h0 = 0x67452301, h1 = 0xefcdab89, h2 = 0x98badcfe, h3 = 0x10325476, h4 = 0xc3d2e1f0;
    const X = new Array(16);
    const rotl = (v, s) => (v << s) | (v >>> (32 - s));
    for (let o = 0; o < padded.length; o += 64) {
      for (let i = 0; i < 16; i++) X[i] = dv.getUint32(o + 4 * i, true);
      let al = h0, bl = h1, cl = h2, dl = h3, el = h4;
      let ar = h0, br = h1, cr = h2, dr = h3, er = h4;
      for (let j = 0; j < 80; j++) {
        const r = j >> 4;
        let t = (rotl((al + rmdF(j, bl, cl, dl) + X[parseInt(RMD.rl[j], 16)] + RMD.kl[r]) | 0, RMD.sl[j]) + el) | 0;
        al = el; el = dl; dl = rotl(cl, 10); cl = bl; bl = t;
        t = (rotl((ar + rmdF(79 - j, br, cr, dr) + X[parseInt(RMD.rr[j], 16)] + RMD.kr[r]) | 0, RMD.sr[j]) + er) | 0;
        ar = er; er = dr; dr = rotl(cr, 10); cr = br; br = t;
      }
      const t = (h1 + cl + dr) | 0;
      h1 = (h2 + dl + er) | 0;
      h2 = (h3 + el + ar) | 0;
      h3 = (h4 + al + br) | 0;
      h4 = (h0 + bl + cr) | 0;
      h0 = t;
    }
    const out = new Uint8Array(20);
    const ov = new DataView(out.buffer);
    [h0, h1, h2, h3, h4].forEach((h, i) => ov.setUint32(4 * i, h >>> 0, true));
    return out;
  }
  async function hash160(b) {
    return ripemd160(await sha256(b));
  }
  async function sha256d(b) {
    return sha256(await sha256(b));
  }

  // ------------------------------------- transactions (BIP-144), outpoints
  // The transaction decoder mirrors btcd's wire.MsgTx.Deserialize, which
  // proofs/control uses, down to its error messages: canonical varints, the
  // segwit marker and flag, the same count limits and the same 4 MiB budget
  // for all scripts and witness items together, and no trailing bytes.
  const MAX_TX_SIZE = 16 << 20; // control.MaxTxSize
  const MAX_TX_IN = Math.floor((4 << 20) / 41) + 1; // wire maxTxInPerMessage
  const MAX_TX_OUT = Math.floor((4 << 20) / 9) + 1; // wire maxTxOutPerMessage
  const MAX_WITNESS_ITEMS = 4000000;
  const SCRIPT_SLAB = 1 << 22; // wire scriptSlabSize
  class TxDecodeError extends Error {}
  function decodeTxBytes(b) {
    let o = 0;
    let slab = SCRIPT_SLAB;
    // io.ReadFull's errors: EOF when nothing is left, else unexpected EOF.
    const need = (n) => {
      if (o + n > b.length) throw new TxDecodeError(o >= b.length ? "EOF" : "unexpected EOF");
    };
    const u8 = () => (need(1), b[o++]);
    const u16 = () => (need(2), (o += 2), b[o - 2] | (b[o - 1] << 8));
    const u32 = () => (need(4), (o += 4), (b[o - 4] | (b[o - 3] << 8) | (b[o - 2] << 16) | (b[o - 1] << 24)) >>> 0);
    const u64 = () => {
      const lo = BigInt(u32()), hi = BigInt(u32());
      return (hi << 32n) | lo;
    };
    const take = (n) => (need(n), (o += n), b.subarray(o - n, o));
    const varint = () => {
      const d = u8();
      let v, min;
      if (d === 0xff) [v, min] = [u64(), 0x100000000n];
      else if (d === 0xfe) [v, min] = [BigInt(u32()), 0x10000n];
      else if (d === 0xfd) [v, min] = [BigInt(u16()), 0xfdn];
      else return d;
      if (v < min) throw new TxDecodeError(`ReadVarInt: non-canonical varint ${v.toString(16)} - discriminant ${d.toString(16)} must encode a value greater than ${min.toString(16)}`);
      return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
    };
    const script = (field) => {
      const n = varint();
      if (n > MAX_WITNESS_ITEMS) throw new TxDecodeError(`readScript: ${field} is larger than the max allowed size [count ${n}, max ${MAX_WITNESS_ITEMS}]`);
      if (n > slab) throw new TxDecodeError(`readScript: ${field} exceeds remaining buffer capacity [count ${n}, remaining ${slab}]`);
      const s = take(n);
      slab -= n;
      return s;
    };
    const tx = { version: take(4), inputs: [], outputs: [], witness: false };
    let count = varint();
    let flag = 0;
    if (count === 0) {
      flag = u8();
      if (flag !== 1) throw new TxDecodeError(`MsgTx.BtcDecode: witness tx but flag byte is ${flag.toString(16).padStart(2, "0")}`);
      count = varint();
    }
    if (count > MAX_TX_IN) throw new TxDecodeError(`MsgTx.BtcDecode: too many input transactions to fit into max message size [count ${count}, max ${MAX_TX_IN}]`);
    for (let i = 0; i < count; i++) {
      const hash = take(32), index = u32();
      const sigScript = script("transaction input signature script");
      tx.inputs.push({ hash, index, script: sigScript, sequence: u32(), witness: [] });
    }
    count = varint();
    if (count > MAX_TX_OUT) throw new TxDecodeError(`MsgTx.BtcDecode: too many output transactions to fit into max message size [count ${count}, max ${MAX_TX_OUT}]`);
    for (let i = 0; i < count; i++) {
      const value = u64();
      tx.outputs.push({ value, script: script("transaction output public key script") });
    }
    if (flag) {
      for (const txin of tx.inputs) {
        const n = varint();
        if (n > MAX_WITNESS_ITEMS) throw new TxDecodeError(`MsgTx.BtcDecode: too many witness items to fit into max message size [count ${n}, max ${MAX_WITNESS_ITEMS}]`);
        for (let j = 0; j < n; j++) txin.witness.push(script("script witness item"));
      }
      tx.witness = tx.inputs.some((x) => x.witness.length > 0);
      if (!tx.witness) throw new TxDecodeError("witness flag set but tx has no witnesses");
    }
    tx.locktime = take(4);
    tx.end = o;
    return tx;
  }
  function varintBytes(n) {
    if (n < 0xfd) return Uint8Array.of(n);
    if (n <= 0xffff) return Uint8Array.of(0xfd, n & 0xff, n >> 8);
    return Uint8Array.of(0xfe, n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24);
  }
  function u32le(n) {
    return Uint8Array.of(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24);
  }
  function u64le(v) {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, BigInt(v)), true);
    return b;
  }
  function outpointBytes(inp) {
    return concat(inp.hash, u32le(inp.index));
  }
  function txOutBytes(value, script) {
    return concat(u64le(value), varintBytes(script.length), script);
  }
  // outpointString formats an outpoint as btcd's wire.OutPoint.String and
  // the documents do: the txid byte-reversed, ":", the index.
  function outpointString(hash, index) {
    return toHex(hash.slice().reverse()) + ":" + index;
  }
  // goQuote approximates Go's %q for the strings these messages quote.
  function goQuote(s) {
    const named = { '"': '\\"', "\\": "\\\\", "\x07": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v" };
    let out = '"';
    for (const ch of String(s)) {
      const c = ch.codePointAt(0);
      if (named[ch]) out += named[ch];
      else if (c < 0x20 || c === 0x7f) out += "\\x" + c.toString(16).padStart(2, "0");
      else out += ch;
    }
    return out + '"';
  }

  // ------------------------------------------------------------ ECDSA
  const HALF_N = N >> 1n;
  // parsePubKey parses a SEC1 key as btcec.ParsePubKey does (compressed or
  // uncompressed; hybrid keys never get here: strict encoding refuses them
  // first) and returns [x, y] or null.
  function parsePubKey(b) {
    if (b.length === 33 && (b[0] === 2 || b[0] === 3)) {
      const x = bytesToBig(b.subarray(1));
      const pt = liftX(x);
      if (!pt) return null;
      return (pt[1] & 1n) === BigInt(b[0] & 1) ? pt : [pt[0], P - pt[1]];
    }
    if (b.length === 65 && b[0] === 4) {
      const x = bytesToBig(b.subarray(1, 33)), y = bytesToBig(b.subarray(33));
      if (x >= P || y >= P || mod(y * y - x * x * x - 7n) !== 0n) return null;
      return [x, y];
    }
    return null;
  }
  // isStrictDER is btcd's checkSignatureEncoding under the standard flags
  // (BIP-66 strict DER, low S), for a signature without its hash type.
  function isStrictDER(sig) {
    const n = sig.length;
    if (n < 8 || n > 72 || sig[0] !== 0x30 || sig[1] !== n - 2) return false;
    const rLen = sig[3];
    const sType = 4 + rLen;
    if (sType >= n || sType + 1 >= n) return false;
    const sLen = sig[sType + 1];
    const sOff = sType + 2;
    if (sOff + sLen !== n) return false;
    if (sig[2] !== 2 || rLen === 0 || sig[4] & 0x80 || (rLen > 1 && sig[4] === 0 && !(sig[5] & 0x80))) return false;
    if (sig[sType] !== 2 || sLen === 0 || sig[sOff] & 0x80 || (sLen > 1 && sig[sOff] === 0 && !(sig[sOff + 1] & 0x80))) return false;
    return bytesToBig(sig.subarray(sOff)) <= HALF_N;
  }
  // ecdsaVerify checks a strict DER signature over a 32-byte hash.
  function ecdsaVerify(hash, der, Q) {
    const rLen = der[3];
    const r = bytesToBig(der.subarray(4, 4 + rLen));
    const s = bytesToBig(der.subarray(6 + rLen));
    if (r === 0n || s === 0n || r >= N || s >= N) return false;
    const e = mod(bytesToBig(hash), N);
    const w = invMod(s, N);
    const R = toAffine(mulAdd(mod(e * w, N), [GX, GY, 1n], mod(r * w, N), [Q[0], Q[1], 1n]));
    return !!R && mod(R[0], N) === r;
  }

  // ------------------------------------------- signature hashes (sighash)
  const SIGHASH_ALL = 1, SIGHASH_NONE = 2, SIGHASH_SINGLE = 3, ANYONECANPAY = 0x80;
  // sighashContext holds one proof transaction with the outputs its inputs
  // spend (prevouts[0] is the commitment input's: 0 sats to OP_TRUE) and
  // computes every hash shared by its inputs once, so that checking all
  // inputs is linear in the size of the transaction (except legacy inputs,
  // whose signature hash serializes the whole transaction each time).
  function sighashContext(tx, prevouts) {
    const memo = {};
    const once = (k, f) => memo[k] || (memo[k] = f());
    const ctx = {
      tx,
      prevouts,
      shaPrevouts: () => once("p", () => sha256(concat(...tx.inputs.map(outpointBytes)))),
      shaSequences: () => once("s", () => sha256(concat(...tx.inputs.map((x) => u32le(x.sequence))))),
      shaOutputs: () => once("o", () => sha256(concat(...tx.outputs.map((x) => txOutBytes(x.value, x.script))))),
      shaAmounts: () => once("a", () => sha256(concat(...prevouts.map((p) => u64le(p.value))))),
      shaScripts: () => once("c", () => sha256(concat(...prevouts.map((p) => concat(varintBytes(p.script.length), p.script))))),
      // BIP-143 hashes are the double SHA-256 ones: SHA-256 of the above.
      hashPrevouts: () => once("P", async () => sha256(await ctx.shaPrevouts())),
      hashSequence: () => once("S", async () => sha256(await ctx.shaSequences())),
      hashOutputs: () => once("O", async () => sha256(await ctx.shaOutputs())),
      // The legacy SIGHASH_ALL serialization with every script empty.
      legacyAll: () => once("L", async () => {
        const offsets = [];
        let o = 0;
        const chunks = tx.inputs.map((inp) => {
          offsets.push(o);
          o += 41;
          return concat(outpointBytes(inp), Uint8Array.of(0), u32le(inp.sequence));
        });
        return {
          head: concat(tx.version, varintBytes(tx.inputs.length)),
          inputs: concat(...chunks),
          offsets,
          tail: concat(varintBytes(tx.outputs.length), ...tx.outputs.map((x) => txOutBytes(x.value, x.script)), tx.locktime),
        };
      }),
    };
    return ctx;
  }
  const ZERO32 = new Uint8Array(32);
  // bip143Sighash is the segwit v0 signature hash of input idx.
  async function bip143Sighash(ctx, idx, scriptCode, ht) {
    const { tx } = ctx;
    const inp = tx.inputs[idx];
    const base = ht & 0x1f;
    const acp = ht & ANYONECANPAY;
    let outs = ZERO32;
    if (base !== SIGHASH_SINGLE && base !== SIGHASH_NONE) outs = await ctx.hashOutputs();
    else if (base === SIGHASH_SINGLE && idx < tx.outputs.length) outs = await sha256d(txOutBytes(tx.outputs[idx].value, tx.outputs[idx].script));
    return sha256d(concat(
      tx.version,
      acp ? ZERO32 : await ctx.hashPrevouts(),
      acp || base === SIGHASH_SINGLE || base === SIGHASH_NONE ? ZERO32 : await ctx.hashSequence(),
      outpointBytes(inp),
      varintBytes(scriptCode.length), scriptCode,
      u64le(ctx.prevouts[idx].value),
      u32le(inp.sequence),
      outs,
      tx.locktime,
      u32le(ht),
    ));
  }
  // legacySighash is the original signature hash (btcd calcSignatureHash),
  // with its SIGHASH_SINGLE quirk: an input without a matching output signs
  // the number 1.
  async function legacySighash(ctx, idx, scriptCode, ht) {
    const { tx } = ctx;
    const base = ht & 0x1f;
    if (base === SIGHASH_SINGLE && idx >= tx.outputs.length) {
      const one = new Uint8Array(32);
      one[0] = 1;
      return one;
    }
    if (base === SIGHASH_ALL && !(ht & ANYONECANPAY)) {
      // Every input but idx serialized with an empty script, made once:
      // each input then costs one copy of the transaction, not a rebuild.
      const all = await ctx.legacyAll();
      const at = all.offsets[idx];
      return sha256d(concat(all.head, all.inputs.subarray(0, at + 36), varintBytes(scriptCode.length), scriptCode, all.inputs.subarray(at + 37), all.tail, u32le(ht)));
    }
    const ins = ht & ANYONECANPAY ? [idx] : tx.inputs.map((_, i) => i);
    const parts = [tx.version, varintBytes(ins.length)];
    for (const i of ins) {
      const inp = tx.inputs[i];
      const zeroSeq = i !== idx && (base === SIGHASH_NONE || base === SIGHASH_SINGLE);
      parts.push(outpointBytes(inp), i === idx ? concat(varintBytes(scriptCode.length), scriptCode) : Uint8Array.of(0), u32le(zeroSeq ? 0 : inp.sequence));
    }
    if (base === SIGHASH_NONE) parts.push(varintBytes(0));
    else if (base === SIGHASH_SINGLE) {
      parts.push(varintBytes(idx + 1));
      for (let i = 0; i < idx; i++) parts.push(txOutBytes(-1n, new Uint8Array(0)));
      parts.push(txOutBytes(tx.outputs[idx].value, tx.outputs[idx].script));
    } else {
      parts.push(varintBytes(tx.outputs.length), ...tx.outputs.map((x) => txOutBytes(x.value, x.script)));
    }
    parts.push(tx.locktime, u32le(ht));
    return sha256d(concat(...parts));
  }
  // taprootSighash is the BIP-341 signature hash of a key path spend of
  // input idx, or null for a hash type BIP-341 refuses.
  async function taprootSighash(ctx, idx, ht, annex) {
    const { tx } = ctx;
    if (![0, 1, 2, 3, 0x81, 0x82, 0x83].includes(ht)) return null;
    const base = ht & 3;
    if (base === SIGHASH_SINGLE && idx >= tx.outputs.length) return null;
    const inp = tx.inputs[idx];
    const parts = [Uint8Array.of(0, ht), tx.version, tx.locktime];
    if (!(ht & ANYONECANPAY)) parts.push(await ctx.shaPrevouts(), await ctx.shaAmounts(), await ctx.shaScripts(), await ctx.shaSequences());
    if (base !== SIGHASH_NONE && base !== SIGHASH_SINGLE) parts.push(await ctx.shaOutputs());
    parts.push(Uint8Array.of(annex ? 1 : 0));
    if (ht & ANYONECANPAY) {
      const po = ctx.prevouts[idx];
      parts.push(outpointBytes(inp), txOutBytes(po.value, po.script), u32le(inp.sequence));
    } else {
      parts.push(u32le(idx));
    }
    if (annex) parts.push(await sha256(concat(varintBytes(annex.length), annex)));
    if (base === SIGHASH_SINGLE) parts.push(await sha256(txOutBytes(tx.outputs[idx].value, tx.outputs[idx].script)));
    return taggedHash("TapSighash", concat(...parts));
  }

  // ------------------------------------------------------ script templates
  // parseScript splits a script into opcodes and pushed data, or returns
  // null when a push runs past the end (btcd checkScriptParses).
  function parseScript(s) {
    const ops = [];
    for (let o = 0; o < s.length; ) {
      const op = s[o++];
      let n = -1;
      if (op >= 1 && op <= 75) n = op;
      else if (op >= 0x4c && op <= 0x4e) {
        const w = op === 0x4c ? 1 : op === 0x4d ? 2 : 4;
        if (o + w > s.length) return null;
        n = 0;
        for (let k = w - 1; k >= 0; k--) n = n * 256 + s[o + k];
        o += w;
      }
      if (n < 0) {
        ops.push({ op, data: op === 0 ? new Uint8Array(0) : null });
        continue;
      }
      if (o + n > s.length) return null;
      ops.push({ op, data: s.subarray(o, o + n) });
      o += n;
    }
    return ops;
  }
  // minimalPush is btcd's checkMinimalDataPush.
  function minimalPush({ op, data }) {
    const n = data.length;
    if (n === 0) return op === 0;
    if (n === 1 && data[0] >= 1 && data[0] <= 16) return op === 0x50 + data[0];
    if (n === 1 && data[0] === 0x81) return op === 0x4f;
    if (n <= 75) return op === n;
    if (n <= 255) return op === 0x4c;
    if (n <= 65535) return op === 0x4d;
    return true;
  }
  // pushStack runs a signature script that only pushes and returns the
  // stack it leaves, "fail" when btcd's engine refuses it under the
  // standard flags, or "other" when it does more than push.
  function pushStack(script) {
    if (script.length > 10000) return "fail";
    const ops = parseScript(script);
    if (!ops) return "fail";
    const stack = [];
    for (const x of ops) {
      if (x.op > 0x60) return "other";
      if (x.op === 0x50) return "fail"; // OP_RESERVED
      if (x.op === 0x4f) stack.push(Uint8Array.of(0x81));
      else if (x.op >= 0x51) stack.push(Uint8Array.of(x.op - 0x50));
      else if (!minimalPush(x) || x.data.length > 520) return "fail";
      else stack.push(x.data);
      if (stack.length > 1000) return "fail";
    }
    return stack;
  }
  function isWitnessProgram(s) {
    return s.length >= 4 && s.length <= 42 && (s[0] === 0 || (s[0] >= 0x51 && s[0] <= 0x60)) && s[1] >= 2 && s[1] <= 40 && s[1] === s.length - 2;
  }
  // smallInt reads m or n of a multisig script: OP_0 … OP_16, or 17 … 20
  // pushed as one byte (the minimal forms).
  function smallInt(x) {
    if (x.op === 0) return 0;
    if (x.op >= 0x51 && x.op <= 0x60) return x.op - 0x50;
    if (x.op === 1 && x.data[0] >= 17 && x.data[0] <= 20) return x.data[0];
    return -1;
  }
  // parseMultisig recognizes OP_m <key>… OP_n OP_CHECKMULTISIG, every key
  // a direct push, or returns null.
  function parseMultisig(script) {
    const ops = parseScript(script);
    if (!ops || ops.length < 3 || ops[ops.length - 1].op !== 0xae) return null;
    const m = smallInt(ops[0]), n = smallInt(ops[ops.length - 2]);
    const keys = ops.slice(1, -2);
    if (m < 0 || n < 0 || m > n || n !== keys.length) return null;
    if (!keys.every((k) => k.op >= 2 && k.op <= 75)) return null;
    return { m, keys: keys.map((k) => k.data) };
  }
  const P2PKH_RE = (s) => s.length === 25 && s[0] === 0x76 && s[1] === 0xa9 && s[2] === 0x14 && s[23] === 0x88 && s[24] === 0xac;
  const P2SH_RE = (s) => s.length === 23 && s[0] === 0xa9 && s[1] === 0x14 && s[22] === 0x87;
  const P2WPKH_RE = (s) => s.length === 22 && s[0] === 0 && s[1] === 0x14;
  const P2WSH_RE = (s) => s.length === 34 && s[0] === 0 && s[1] === 0x20;
  const P2TR_RE = (s) => s.length === 34 && s[0] === 0x51 && s[1] === 0x20;
  function p2pkhScript(h) {
    return concat(Uint8Array.of(0x76, 0xa9, 0x14), h, Uint8Array.of(0x88, 0xac));
  }

  // The result of checking one reserve input, as proofs/control has it.
  const PROVEN = "proven", BAD_SCRIPT = "script", NO_COMMIT = "commit", UNCHECKED = "unchecked";

  // checkSig is OP_CHECKSIG for one ECDSA signature under the standard
  // flags; it resolves to the hash type of a signature that verifies, or
  // -1. segwit selects the BIP-143 hash and compressed keys only.
  async function checkSig(ctx, idx, full, pk, scriptCode, segwit) {
    if (full.length === 0) return -1;
    const ht = full[full.length - 1];
    const der = full.subarray(0, full.length - 1);
    const base = ht & ~ANYONECANPAY;
    if (base < SIGHASH_ALL || base > SIGHASH_SINGLE || !isStrictDER(der)) return -1;
    const compressed = pk.length === 33 && (pk[0] === 2 || pk[0] === 3);
    if (!compressed && (segwit || !(pk.length === 65 && pk[0] === 4))) return -1;
    const Q = parsePubKey(pk);
    if (!Q) return -1;
    const hash = segwit ? await bip143Sighash(ctx, idx, scriptCode, ht) : await legacySighash(ctx, idx, scriptCode, ht);
    return ecdsaVerify(hash, der, Q) ? ht : -1;
  }
  // p2wpkh checks a witness [signature, key] against a 20-byte program.
  async function p2wpkh(ctx, idx, program, witness) {
    if (witness.length !== 2 || witness.some((w) => w.length > 520)) return BAD_SCRIPT;
    const [sig, pk] = witness;
    if (!equalBytes(await hash160(pk), program)) return BAD_SCRIPT;
    const ht = await checkSig(ctx, idx, sig, pk, p2pkhScript(program), true);
    if (ht < 0) return BAD_SCRIPT;
    return ht & ANYONECANPAY ? NO_COMMIT : PROVEN;
  }
  // checkMultisig is OP_CHECKMULTISIG as btcd runs it (signatures matched
  // to keys in order, each key tried once, undecodable keys skipped); it
  // resolves to the hash types of the signatures when it succeeds, or null.
  async function checkMultisig(ctx, idx, ms, items, script) {
    const { m, keys } = ms;
    if (items.length + keys.length + 2 > 1000 || items.length !== m + 1 || items[0].length !== 0) return null;
    // btcd pops them: the last signature and the last key first.
    const sigs = items.slice(1).reverse().map((s) => ({ raw: s, parsed: false, ok: false }));
    const pubs = keys.slice().reverse();
    const used = [];
    let nSigs = m, nKeys = keys.length + 1, ki = -1, si = 0;
    while (nSigs > 0) {
      ki++;
      nKeys--;
      if (nSigs > nKeys) return null;
      const sg = sigs[si], pk = pubs[ki];
      if (sg.raw.length === 0) continue;
      const ht = sg.raw[sg.raw.length - 1];
      const der = sg.raw.subarray(0, sg.raw.length - 1);
      if (!sg.parsed) {
        const base = ht & ~ANYONECANPAY;
        if (base < SIGHASH_ALL || base > SIGHASH_SINGLE || !isStrictDER(der)) return null;
        sg.parsed = true;
        const rLen = der[3];
        const r = bytesToBig(der.subarray(4, 4 + rLen)), s = bytesToBig(der.subarray(6 + rLen));
        sg.ok = r > 0n && s > 0n && r < N && s < N;
        if (!sg.ok) continue;
      } else if (!sg.ok) continue;
      if (!(pk.length === 33 && (pk[0] === 2 || pk[0] === 3))) return null; // segwit: compressed keys only
      const Q = parsePubKey(pk);
      if (!Q) continue;
      if (ecdsaVerify(await bip143Sighash(ctx, idx, script, ht), der, Q)) {
        used.push(ht);
        si++;
        nSigs--;
      }
    }
    return used;
  }
  // p2wsh checks a witness [items…, script] against a 32-byte program.
  async function p2wsh(ctx, idx, program, witness) {
    if (witness.length === 0) return BAD_SCRIPT;
    const script = witness[witness.length - 1];
    if (script.length > 10000 || !equalBytes(await sha256(script), program) || !parseScript(script)) return BAD_SCRIPT;
    const items = witness.slice(0, -1);
    if (items.some((w) => w.length > 520)) return BAD_SCRIPT;
    const ms = parseMultisig(script);
    if (!ms) return UNCHECKED;
    const hts = await checkMultisig(ctx, idx, ms, items, script);
    if (!hts) return BAD_SCRIPT;
    // Signatures that all leave the other inputs out (or none at all:
    // 0-of-n) verify whatever the commitment input spends.
    return hts.some((ht) => !(ht & ANYONECANPAY)) ? PROVEN : NO_COMMIT;
  }
  // p2tr checks a key path spend (script path spends are not checked here).
  async function p2tr(ctx, idx, program, witness) {
    let w = witness;
    if (w.length === 0) return BAD_SCRIPT;
    let annex = null;
    if (w.length >= 2 && w[w.length - 1].length > 0 && w[w.length - 1][0] === 0x50) {
      annex = w[w.length - 1];
      w = w.slice(0, -1);
    }
    if (w.length !== 1) return UNCHECKED;
    const sig = w[0];
    let ht;
    if (sig.length === 64) ht = 0;
    else if (sig.length === 65 && sig[64] !== 0) ht = sig[64];
    else return BAD_SCRIPT;
    const hash = await taprootSighash(ctx, idx, ht, annex);
    if (!hash || !(await schnorrVerify(program, hash, sig.subarray(0, 64)))) return BAD_SCRIPT;
    return ht & ANYONECANPAY ? NO_COMMIT : PROVEN;
  }
  // checkInput decides whether input idx proves control of the output it
  // spends, for the script types this verifier knows (P2WPKH, P2WSH bare
  // multisig, P2TR key path, P2PKH, P2SH-P2WPKH), with the verdict btcd's
  // interpreter gives under the standard flags: PROVEN, BAD_SCRIPT (it does
  // not verify: control.ReasonScript), NO_COMMIT (it verifies whatever the
  // commitment input spends: control.ReasonCommit) or UNCHECKED.
  //
  // proofs/control decides "commits" by running the script again with the
  // commitment moved; for these scripts that run fails exactly when a
  // signature hash covers the other inputs: a signature without
  // SIGHASH_ANYONECANPAY, and, for legacy scripts, not a SIGHASH_SINGLE
  // signature of an input without a matching output (which signs 1).
  async function checkInput(ctx, idx) {
    const { tx, prevouts } = ctx;
    const spk = prevouts[idx].script;
    const inp = tx.inputs[idx];
    const sigScript = inp.script;
    if (P2WPKH_RE(spk) || P2WSH_RE(spk) || P2TR_RE(spk)) {
      if (sigScript.length !== 0) return BAD_SCRIPT;
      const program = spk.subarray(2);
      if (P2WPKH_RE(spk)) return p2wpkh(ctx, idx, program, inp.witness);
      if (P2WSH_RE(spk)) return p2wsh(ctx, idx, program, inp.witness);
      return p2tr(ctx, idx, program, inp.witness);
    }
    if (P2PKH_RE(spk)) {
      if (inp.witness.length !== 0) return BAD_SCRIPT;
      const st = pushStack(sigScript);
      if (st === "fail") return BAD_SCRIPT;
      if (st === "other") return UNCHECKED;
      if (st.length !== 2 || !equalBytes(await hash160(st[1]), spk.subarray(3, 23))) return BAD_SCRIPT;
      const ht = await checkSig(ctx, idx, st[0], st[1], spk, false);
      if (ht < 0) return BAD_SCRIPT;
      const signsOne = (ht & 0x1f) === SIGHASH_SINGLE && idx >= tx.outputs.length;
      return ht & ANYONECANPAY || signsOne ? NO_COMMIT : PROVEN;
    }
    if (P2SH_RE(spk)) {
      const st = pushStack(sigScript);
      if (st === "fail" || st === "other") return BAD_SCRIPT; // P2SH needs a push-only script
      const w = inp.witness;
      // btcd: the first byte a canonical push opcode for the rest, and the
      // rest a witness program (PUSHDATA1/2/4 are never canonical for 4 to
      // 42 bytes).
      const nested = sigScript.length > 2 && isWitnessProgram(sigScript.subarray(1)) && !(sigScript[0] >= 0x4c && sigScript[0] <= 0x4e);
      if (w.length !== 0 && !nested) return BAD_SCRIPT; // not exactly one push of a witness program
      if (st.length === 0) return BAD_SCRIPT;
      const redeem = st[st.length - 1];
      if (!equalBytes(await hash160(redeem), spk.subarray(2, 22))) return BAD_SCRIPT;
      if (!P2WPKH_RE(redeem)) return UNCHECKED;
      if (sigScript.length !== 23 || sigScript[0] !== 22) return BAD_SCRIPT;
      return p2wpkh(ctx, idx, redeem.subarray(2), w);
    }
    return UNCHECKED;
  }

  // ------------------------------------------------ proofs of control
  // Mirrors proofs/control: a BIP-127 proof-of-reserves transaction whose
  // first input spends SHA256("Proof-of-Reserves: " ‖ message):0.
  const CONTROL_INVALID = "invalid proof of control";
  const MAX_CONTROL_INPUTS = 100000;
  const MAX_BTC_SATS = 21000000n * 100000000n;
  const REASON_SCRIPT = "does not verify against its script";
  const REASON_COMMIT = "does not commit to the challenge (a SIGHASH_ANYONECANPAY signature, or a script anyone can satisfy)";
  function challengeMessage(ch) {
    return "kosh:" + ch.issuer_key + ":" + ch.height + ":" + ch.hash;
  }
  // decodeProofTx decodes a proof's hex transaction (control.Decode); it
  // throws an Error whose message is Go's (exact: true; a varint above 2^53
  // is the one thing whose wording could differ).
  function decodeProofTx(txHex) {
    const bad = (msg, exact = true) => {
      const e = new Error(`${CONTROL_INVALID}: ${msg}`);
      e.exact = exact;
      throw e;
    };
    if (typeof txHex !== "string" || txHex.length > 2 * MAX_TX_SIZE) bad(`the transaction is more than ${MAX_TX_SIZE} bytes`);
    if (txHex.length % 2 !== 0 || !/^[0-9a-f]*$/.test(txHex)) bad("the transaction is not lower-case hex");
    const b = fromHex(txHex);
    let tx;
    try {
      tx = decodeTxBytes(b);
    } catch (e) {
      if (!(e instanceof TxDecodeError)) throw e;
      bad(`the transaction does not decode: ${e.message}`);
    }
    if (tx.end !== b.length) bad("the transaction has trailing or non-canonical bytes");
    return tx;
  }
  // verifyControl mirrors control.Proof.Verify. ch = {issuer_key, height,
  // hash}; prevouts = [{value: BigInt, script: bytes}] for the inputs after
  // the first. It resolves to {error} (the proof as a whole proves
  // nothing, Go's sentence) or {inputs: [{outpoint, result}]}, one per
  // reserve input, result one of PROVEN, BAD_SCRIPT, NO_COMMIT, UNCHECKED.
  async function verifyControl(ch, tx, prevouts) {
    const bad = (msg) => ({ error: `${CONTROL_INVALID}: ${msg}` });
    if (!isLowerHex(ch.issuer_key, 64)) return bad(`issuer key ${goQuote(ch.issuer_key)} is not 64 lower-case hex digits`);
    if (ch.height < 0) return bad(`challenge block height ${ch.height} is negative`);
    if (!isLowerHex(ch.hash, 64)) return bad(`challenge block hash ${goQuote(ch.hash)} is not 64 lower-case hex digits`);
    const nIn = tx.inputs.length;
    if (nIn < 2 || nIn - 1 > MAX_CONTROL_INPUTS) return bad(`the transaction has ${nIn} inputs; a proof has the commitment input and 1 to ${MAX_CONTROL_INPUTS} reserve inputs`);
    if (prevouts.length !== nIn - 1) return bad(`the proof lists ${prevouts.length} previous outputs for ${nIn - 1} reserve inputs`);
    const c = tx.inputs[0];
    const commitment = await sha256(utf8("Proof-of-Reserves: " + challengeMessage(ch)));
    if (!equalBytes(c.hash, commitment) || c.index !== 0) {
      return bad(`its first input spends ${outpointString(c.hash, c.index)}, not the commitment ${outpointString(commitment, 0)} to ${goQuote(challengeMessage(ch))}`);
    }
    if (c.script.length !== 0 || c.witness.length !== 0) return bad("its commitment input carries a script or witness; it must be empty");
    const seen = new Set([outpointString(c.hash, c.index)]);
    let total = 0n;
    for (let i = 1; i < nIn; i++) {
      const op = outpointString(tx.inputs[i].hash, tx.inputs[i].index);
      if (seen.has(op)) return bad(`it spends ${op} twice, or spends the commitment outpoint`);
      seen.add(op);
      const v = prevouts[i - 1].value;
      if (v <= 0n || v > MAX_BTC_SATS) return bad(`the output ${op} it spends has value ${v}, not 1 sat to 21 million BTC`);
      total += v;
    }
    if (tx.outputs.length !== 1) return bad(`the transaction has ${tx.outputs.length} outputs; a proof has exactly one`);
    const pays = BigInt.asIntN(64, tx.outputs[0].value);
    if (pays !== total) return bad(`its output pays ${pays} sats, not the ${total} sats its reserve inputs hold`);
    const ctx = sighashContext(tx, [{ value: 0n, script: Uint8Array.of(0x51) }, ...prevouts]);
    // A few inputs at a time, so that the curve arithmetic of one runs
    // while another waits for WebCrypto.
    const inputs = new Array(nIn - 1);
    let next = 1;
    const worker = async () => {
      while (next < nIn) {
        const i = next++;
        inputs[i - 1] = { outpoint: outpointString(tx.inputs[i].hash, tx.inputs[i].index), result: await checkInput(ctx, i) };
      }
    };
    await Promise.all(Array.from({ length: Math.min(8, nIn - 1) }, worker));
    return { inputs };
  }

  // ------------------------------------------------------ attestations
  // The checks of proofs/attest (docs/proofs.md) that need no node: canonical
  // form, id, issuer signature, Lightning node signatures, every class total
  // against the listed items and counting rules, the coverage arithmetic in
  // exact rationals and, in version 2, the proofs of control. What needs a
  // node (outputs on the chain, a proof's block in the best chain,
  // announced channels in the Lightning graph) is left to koshverify.
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
  // proofMaxAge is counting.proof_max_age, or -1 when absent (version 1).
  function proofMaxAge(a) {
    return a.counting.proof_max_age === undefined ? -1 : a.counting.proof_max_age;
  }
  // provenAtBlock says whether output u names a proof made within the proof
  // age of the attested block (attest provenAtBlock); whether that proof
  // verifies is checkProofs' business.
  function provenAtBlock(a, u) {
    const ps = a.reserves.proofs || [];
    if (u.proof === undefined || u.proof < 0 || u.proof >= ps.length) return false;
    const x = ps[u.proof].block.height;
    return x <= a.block.height && a.block.height - x <= proofMaxAge(a);
  }
  // utxoEligible: enough confirmations and, in version 2, a proof of
  // control within the proof age.
  function utxoEligible(a, u) {
    if (u.confirmations < a.counting.min_confirmations) return false;
    return a.version < 2 || provenAtBlock(a, u);
  }
  // uncountedReason says why a listed output does not count, or "" if it
  // counts, in attest.UncountedReason's words.
  function uncountedReason(a, u) {
    const mc = a.counting.min_confirmations;
    if (u.confirmations < mc) return `${u.confirmations} confirmations, fewer than ${mc}`;
    if (a.version < 2) return "";
    if (u.proof === undefined) return "no proof of control";
    if (!provenAtBlock(a, u)) {
      const x = a.reserves.proofs[u.proof].block.height;
      if (x > a.block.height) return `its proof of control is from block ${x}, after the attested block`;
      return `its proof of control from block ${x} is older than ${proofMaxAge(a)} blocks`;
    }
    return "";
  }
  // isClaimed: a version 2 channel with no third-party evidence, counted
  // under lightning_claimed.
  function isClaimed(a, c) {
    return a.version >= 2 && c.evidence === "claimed";
  }
  // computeTotals sums the listed reserves and applies the counting rules
  // (attest.ComputeTotals). It also throws on a channel that counts what
  // 4.2 forbids, unless lenient (the policy's recomputation, which, like
  // Go's, sums whatever the document says).
  function computeTotals(a, lenient = false) {
    const minConf = a.counting.min_confirmations;
    let listed = 0n, eligible = 0n;
    for (const u of a.reserves.onchain) {
      const v = amount(u.value, `value of output ${u.outpoint}`);
      listed += v;
      if (utxoEligible(a, u)) eligible += v;
    }
    let capacity = 0n, local = 0n, counted = 0n, claimed = 0n;
    for (const n of a.reserves.lightning) {
      for (const c of n.channels) {
        const cap = amount(c.capacity, `capacity of channel ${c.channel_point}`);
        const lb = amount(c.local_balance, `local balance of channel ${c.channel_point}`);
        const ct = amount(c.counted, `counted amount of channel ${c.channel_point}`);
        if (!lenient) {
          // The rules of 4.2 on each channel, in Go's order and words.
          if (lb > cap) fail("sum", `channel ${c.channel_point} claims a local balance of ${lb} sats, more than its capacity of ${cap} sats`);
          if (ct > lb) fail("sum", `channel ${c.channel_point} counts ${ct} sats, more than its local balance of ${lb} sats`);
          if (ct > 0n && minConf < 1) {
            fail("sum", `channel ${c.channel_point} counts ${ct} sats under a minimum of ${minConf} confirmations; a counted channel needs at least 1`);
          }
          if (ct > 0n && c.confirmations < minConf) {
            fail("sum", `channel ${c.channel_point} counts ${ct} sats with ${c.confirmations} confirmations, fewer than the ${minConf} the counting rules require`);
          }
          if (ct > 0n && !n.signature) fail("sum", `channel ${c.channel_point} counts ${ct} sats although its node ${n.pubkey} did not sign the attestation`);
        }
        capacity += cap;
        local += lb;
        if (isClaimed(a, c)) claimed += ct;
        else counted += ct;
      }
    }
    const t = {
      onchain: { listed, eligible, counted: applyRule(eligible, a.counting.onchain) },
      lightning: { capacity, local_balance: local, eligible: counted, counted: applyRule(counted, a.counting.lightning) },
    };
    t.counted = t.onchain.counted + t.lightning.counted;
    if (a.version >= 2) {
      t.lightning_claimed = { eligible: claimed, counted: applyRule(claimed, a.counting.lightning_claimed || { counts: false, haircut_bps: 0 }) };
      t.counted += t.lightning_claimed.counted;
    }
    for (const v of [listed, eligible, capacity, local, counted, claimed, t.counted]) {
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

  // The attestation's shape (proofs/attest shape.go, member for member):
  // every member, no others. "?" marks members left out when empty.
  // strictRead checks the structure and JSON types; checkShape the values
  // of amounts (AMT), big integers (BIG, a price coefficient: at most 78
  // digits) and the coverage in basis points (BPS: at most 111 digits, the
  // most the other bounds allow; field.CoverageBps).
  const AMT = "amount", INT = "int", STR = "str", BOOL = "bool", BIG = "bigint", BPS_DIGITS = "bps";
  const RULE = { counts: BOOL, haircut_bps: INT };
  // Version 2 members are optional here, as in Go's shape; checkStructure
  // requires them in version 2 and refuses them in version 1.
  const BLOCK = { height: INT, hash: STR };
  // The inclusion proof's and the bundle's shapes (proofs/sumtree
  // ProofShape, proofs/attest bundleShape); an issuer-held account's entry
  // in an attestation carries the same proof.
  const PROOF_SCHEMA = { version: INT, height: INT, leaf_index: INT, siblings: [{ hash: STR, sum: STR }] };
  // The share-set proof's shape (proofs/sumtree ShareProofShape).
  const SHARE_PROOF_SCHEMA = { version: INT, height: INT, shares: [{ position: INT, amount: STR }], siblings: [{ hash: STR, sum: STR }] };
  const BUNDLE_SCHEMA = { version: INT, attestation: STR, asset: STR, account: STR, salt: STR, balance: AMT, proof: PROOF_SCHEMA };
  // A version 2 bundle (proofs/attest bundleShape2): the account's last
  // journal sequence, and a share-set proof (attestation version 3).
  const BUNDLE_SCHEMA_2 = { version: INT, attestation: STR, asset: STR, account: STR, salt: STR, balance: AMT, seq: INT, proof: SHARE_PROOF_SCHEMA };
  const SCHEMA = {
    version: INT, seq: INT, issuer_key: STR, time: STR, prev: STR,
    block: BLOCK,
    journal_cutoff: AMT,
    counting: { min_confirmations: INT, onchain: RULE, lightning: RULE, "?lightning_claimed": RULE, "?proof_max_age": INT },
    reserves: {
      onchain: [{ outpoint: STR, value: AMT, confirmations: INT, "?descriptor": STR, "?address": STR, source: STR, "?script": STR, "?proof": INT }],
      lightning: [{ name: STR, pubkey: STR, channels: [{ channel_point: STR, capacity: AMT, confirmations: INT, local_balance: AMT, counted: AMT, "?short_channel_id": STR, "?evidence": STR }], "?signature": STR }],
      "?proofs": [{ block: BLOCK, tx: STR, prevouts: [{ value: AMT, script: STR }] }],
      totals: { onchain: { listed: AMT, eligible: AMT, counted: AMT }, lightning: { capacity: AMT, local_balance: AMT, eligible: AMT, counted: AMT }, "?lightning_claimed": { eligible: AMT, counted: AMT }, counted: AMT },
    },
    assets: [{ code: STR, decimals: INT, peg: STR, "?currency": STR,
      "?price": { currency: STR, coefficient: BIG, scale: INT, time: STR, manual: BOOL, "?spread_bps": INT,
        "?sources": [{ name: STR, coefficient: BIG, scale: INT, time: STR }] },
      min_coverage_bps: INT, liabilities: { root: STR, total: AMT, height: INT, accounts: AMT, "?shares": INT, "?window": INT, "?tree_id": STR } }],
    coverage: { counted_reserves: AMT, required: AMT, backing: AMT, bps: BPS_DIGITS, backed: BOOL },
    stale: BOOL, stale_sources: [STR],
    "?anchor": { seq: INT, id: STR, txid: STR, height: INT, block_hash: STR },
    // Version 2 lists proof; version 3 seq and share_proof (checkStructureV3).
    "?issuer_accounts": [{ asset: STR, account: STR, name: STR, balance: AMT, salt: STR, "?seq": INT, "?proof": PROOF_SCHEMA, "?share_proof": SHARE_PROOF_SCHEMA }],
    "?signature": STR,
  };

  // ------------------------------------------------ strict JSON reading
  // strictRead mirrors proofs/strictjson.Check, message for message
  // (docs/proofs.md §1): JSON.parse keeps the last of two members with the
  // same name and loses how a number was written, so the bytes are read
  // here. Phase 1 (syntax): valid UTF-8, one RFC 8259 value and nothing
  // after it, no lone surrogate escape, no repeated member name, nesting at
  // most 512. Phase 2 (shape), in document order against a schema (the
  // SCHEMA form: "?name" optional, [elem] a list; STR, AMT and BIG are
  // strings): no unknown member (names match exactly), no optional member
  // "" or [], every value of its JSON type (no null; INT written as an
  // integer, no fraction, exponent or leading zero, not -0, at most 2^53 − 1
  // in magnitude), and at the end of each object the first missing
  // required member (by name) reported. It returns {value} (JSON.parse of
  // the text, which now has one reading) or {error: {syntax, msg}}.
  const STRICT_MAX_DEPTH = 512;
  const MAX_SAFE_DIGITS = "9007199254740991";
  const strictText = new TextDecoder("utf-8");
  function strictRead(bytes, schema) {
    let text;
    try {
      text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
    } catch (e) {
      return { error: { syntax: true, msg: "invalid UTF-8" } };
    }
    let v;
    try {
      v = strictParse(bytes);
    } catch (e) {
      if (e && e.strict) return { error: { syntax: true, msg: e.msg } };
      throw e;
    }
    const msg = strictCheck(v, schema, null);
    if (msg) return { error: { syntax: false, msg } };
    return { value: JSON.parse(text) };
  }
  // strictParse parses bytes into {k, s, arr, obj} values: k is one of
  // "null" "bool" "num" "str" "arr" "obj"; s a string's value or a
  // number's text; obj a list of [name, value]. It throws {strict, msg}.
  function strictParse(b) {
    let pos = 0;
    const stop = (what) => {
      throw { strict: true, msg: `${what} at byte offset ${pos}` };
    };
    const isDigit = (c) => c >= 0x30 && c <= 0x39;
    const skipSpace = () => {
      while (pos < b.length && (b[pos] === 0x20 || b[pos] === 0x09 || b[pos] === 0x0a || b[pos] === 0x0d)) pos++;
    };
    const hex4 = (i) => {
      if (i + 4 > b.length) return -1;
      let r = 0;
      for (let k = i; k < i + 4; k++) {
        const c = b[k];
        let d;
        if (isDigit(c)) d = c - 0x30;
        else if (c >= 0x61 && c <= 0x66) d = c - 0x61 + 10;
        else if (c >= 0x41 && c <= 0x46) d = c - 0x41 + 10;
        else return -1;
        r = r * 16 + d;
      }
      return r;
    };
    const literal = (lit, k) => {
      for (let i = 0; i < lit.length; i++) if (b[pos + i] !== lit.charCodeAt(i)) stop("invalid literal");
      pos += lit.length;
      return { k };
    };
    const string = () => {
      const start = pos;
      pos++; // '"'
      for (;;) {
        if (pos >= b.length) stop("unterminated string");
        const c = b[pos];
        if (c === 0x22) {
          pos++;
          return JSON.parse(strictText.decode(b.subarray(start, pos)));
        }
        if (c < 0x20) stop("control character in a string");
        if (c !== 0x5c) {
          pos++;
          continue;
        }
        pos++; // '\\'
        if (pos >= b.length) stop("unterminated string");
        const e = b[pos];
        if (e === 0x75) { // 'u'
          const r = hex4(pos + 1);
          if (r < 0) stop("invalid \\u escape");
          if (r >= 0xd800 && r < 0xdc00) {
            const lo = hex4(pos + 7);
            if (lo < 0 || b[pos + 5] !== 0x5c || b[pos + 6] !== 0x75 || lo < 0xdc00 || lo > 0xdfff) stop("lone UTF-16 surrogate");
            pos += 6;
          } else if (r >= 0xdc00 && r <= 0xdfff) {
            stop("lone UTF-16 surrogate");
          }
          pos += 4;
        } else if (!'"\\/bfnrt'.includes(String.fromCharCode(e))) {
          stop("invalid escape");
        }
        pos++;
      }
    };
    const number = () => {
      const start = pos;
      const digits = () => {
        let n = 0;
        while (pos < b.length && isDigit(b[pos])) {
          pos++;
          n++;
        }
        return n;
      };
      if (b[pos] === 0x2d) pos++;
      if (pos < b.length && b[pos] === 0x30) pos++;
      else if (digits() === 0) stop("invalid number");
      if (pos < b.length && b[pos] === 0x2e) {
        pos++;
        if (digits() === 0) stop("invalid number");
      }
      if (pos < b.length && (b[pos] === 0x65 || b[pos] === 0x45)) {
        pos++;
        if (pos < b.length && (b[pos] === 0x2b || b[pos] === 0x2d)) pos++;
        if (digits() === 0) stop("invalid number");
      }
      return { k: "num", s: strictText.decode(b.subarray(start, pos)) };
    };
    const value = (depth) => {
      if (pos >= b.length) stop("unexpected end of input");
      const c = b[pos];
      if (c === 0x7b) return object(depth + 1);
      if (c === 0x5b) return array(depth + 1);
      if (c === 0x22) return { k: "str", s: string() };
      if (c === 0x2d || isDigit(c)) return number();
      if (c === 0x74) return literal("true", "bool");
      if (c === 0x66) return literal("false", "bool");
      if (c === 0x6e) return literal("null", "null");
      stop("unexpected character");
    };
    const object = (depth) => {
      if (depth > STRICT_MAX_DEPTH) stop(`more than ${STRICT_MAX_DEPTH} nested arrays and objects`);
      pos++; // '{'
      const v = { k: "obj", obj: [] };
      skipSpace();
      if (pos < b.length && b[pos] === 0x7d) {
        pos++;
        return v;
      }
      const seen = new Set();
      for (;;) {
        skipSpace();
        if (pos >= b.length || b[pos] !== 0x22) stop("expected a member name");
        const start = pos;
        const name = string();
        if (seen.has(name)) {
          pos = start;
          stop(`member name ${JSON.stringify(name)} repeated`);
        }
        seen.add(name);
        skipSpace();
        if (pos >= b.length || b[pos] !== 0x3a) stop("expected ':' after a member name");
        pos++;
        skipSpace();
        v.obj.push([name, value(depth)]);
        skipSpace();
        if (pos >= b.length) stop("unexpected end of input");
        if (b[pos] === 0x2c) pos++;
        else if (b[pos] === 0x7d) {
          pos++;
          return v;
        } else stop("expected ',' or '}' in an object");
      }
    };
    const array = (depth) => {
      if (depth > STRICT_MAX_DEPTH) stop(`more than ${STRICT_MAX_DEPTH} nested arrays and objects`);
      pos++; // '['
      const v = { k: "arr", arr: [] };
      skipSpace();
      if (pos < b.length && b[pos] === 0x5d) {
        pos++;
        return v;
      }
      for (;;) {
        skipSpace();
        v.arr.push(value(depth));
        skipSpace();
        if (pos >= b.length) stop("unexpected end of input");
        if (b[pos] === 0x2c) pos++;
        else if (b[pos] === 0x5d) {
          pos++;
          return v;
        } else stop("expected ',' or ']' in an array");
      }
    };
    skipSpace();
    const v = value(0);
    skipSpace();
    if (pos !== b.length) stop("unexpected data after the JSON value");
    return v;
  }
  // strictCheck returns the first shape failure of v under schema sc at
  // path (null: the top level), or "".
  function strictCheck(v, sc, path) {
    const at = (what) => (path === null ? `the top level ${what}` : `${JSON.stringify(path)} ${what}`);
    const member = (name) => (path === null || path === "" ? name : `${path}.${name}`);
    if (Array.isArray(sc)) {
      if (v.k !== "arr") return at("is not a list");
      for (let i = 0; i < v.arr.length; i++) {
        const m = strictCheck(v.arr[i], sc[0], `${path === null ? "" : path}[${i}]`);
        if (m) return m;
      }
      return "";
    }
    if (typeof sc === "object") {
      if (v.k !== "obj") return at("is not an object");
      const own = (k) => Object.prototype.hasOwnProperty.call(sc, k);
      for (const [name, val] of v.obj) {
        const opt = own("?" + name);
        if (!opt && (name.startsWith("?") || !own(name))) {
          let msg = `unknown member ${JSON.stringify(member(name))}`;
          const lower = (x) => x.replace(/[A-Z]/g, (c) => c.toLowerCase());
          const like = Object.keys(sc).map((k) => k.replace(/^\?/, "")).find((k) => lower(k) === lower(name));
          if (like !== undefined) msg += `; names are case-sensitive, and the format has ${JSON.stringify(like)}`;
          return msg;
        }
        if (opt && ((val.k === "str" && val.s === "") || (val.k === "arr" && val.arr.length === 0))) {
          return `${JSON.stringify(member(name))} is empty where it must be left out`;
        }
        const m = strictCheck(val, sc[opt ? "?" + name : name], member(name));
        if (m) return m;
      }
      const present = new Set(v.obj.map(([name]) => name));
      const missing = Object.keys(sc).filter((k) => !k.startsWith("?") && !present.has(k)).sort();
      if (missing.length > 0) return `missing member ${JSON.stringify(member(missing[0]))}`;
      return "";
    }
    switch (sc) {
      case STR:
      case AMT:
      case BIG:
      case BPS_DIGITS:
        return v.k === "str" ? "" : at("is not a string");
      case BOOL:
        return v.k === "bool" ? "" : at("is not true or false");
      case INT: {
        if (v.k !== "num") return at("is not an integer");
        const d = v.s.startsWith("-") ? v.s.slice(1) : v.s;
        const ok = /^(0|[1-9][0-9]*)$/.test(d) && v.s !== "-0" &&
          (d.length < MAX_SAFE_DIGITS.length || (d.length === MAX_SAFE_DIGITS.length && d <= MAX_SAFE_DIGITS));
        return ok ? "" : at("is not an integer");
      }
    }
    throw new Error(`strictCheck: unknown schema ${String(sc)}`);
  }

  function shapeFail(what) {
    fail("malformed", `the document does not have the attestation shape (${what})`);
  }
  // checkShape checks, on a document strictRead accepted, the values its
  // JSON types leave open: amounts are canonical decimals up to 2^63-1, big
  // integers canonical decimals of at most 78 digits and the coverage of at
  // most 111 (with proofs/field's sentences for these two).
  function checkShape(v, sc, path) {
    if (Array.isArray(sc)) {
      v.forEach((x, i) => checkShape(x, sc[0], `${path}[${i}]`));
      return;
    }
    if (typeof sc === "object") {
      for (const [key, sub] of Object.entries(sc)) {
        const k = key.startsWith("?") ? key.slice(1) : key;
        if (k in v) checkShape(v[k], sub, path ? `${path}.${k}` : k);
      }
      return;
    }
    switch (sc) {
      case AMT:
        if (parseAmount(v) === null) shapeFail(`amount "${v}" is not a canonical decimal up to 2^63-1`);
        return;
      case BIG:
      case BPS_DIGITS: {
        const max = sc === BIG ? 78 : 111;
        if (v === "") shapeFail(`amount "" is not a decimal string`);
        if (!/^[0-9]+$/.test(v)) shapeFail(`amount ${goQuote(v)} is not a decimal integer`);
        if (v.length > 1 && v[0] === "0") shapeFail(`amount ${goQuote(v)} has a leading zero`);
        if (v.length > max) shapeFail(`integer of ${v.length} digits is too long`);
        return;
      }
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
    // A version 1 document carries no version 2 member (checkShapeV2).
    if (a.version < 2) {
      const v2 = a.counting.proof_max_age !== undefined || a.counting.lightning_claimed !== undefined ||
        a.reserves.proofs !== undefined || a.reserves.totals.lightning_claimed !== undefined ||
        a.reserves.onchain.some((u) => u.script !== undefined || u.proof !== undefined) ||
        a.reserves.lightning.some((n) => n.channels.some((c) => c.short_channel_id !== undefined || c.evidence !== undefined)) ||
        a.anchor !== undefined || a.issuer_accounts !== undefined;
      if (v2) fail("malformed", `the attestation is version ${a.version} but has members of version 2`);
    }
    // An older document carries no version 3 member (checkShapeV3).
    if (a.version < 3) {
      const v3 = a.assets.some((as) => as.liabilities.shares !== undefined || as.liabilities.window !== undefined || as.liabilities.tree_id !== undefined) ||
        (a.issuer_accounts || []).some((ia) => ia.seq !== undefined || ia.share_proof !== undefined);
      if (v3) fail("malformed", `the attestation is version ${a.version} but has members of version 3`);
    }
    // The shape rules of proofs/attest checkShape that are not sums.
    if (a.seq < 1) fail("malformed", `the attestation sequence number ${a.seq} is not positive`);
    if (a.prev === "" && a.seq !== 1) fail("chain", `attestation ${a.seq} names no predecessor, but only the first attestation may do so`);
    if (a.prev !== "" && !isLowerHex(a.prev, 64)) fail("malformed", `the previous attestation hash "${a.prev}" is not 64 lower-case hex digits`);
    if (a.prev !== "" && a.seq === 1) fail("chain", `the first attestation names a predecessor ${a.prev}`);
    if (timeSeconds(a.time) === null) fail("malformed", `time ${goQuote(a.time)} is not an RFC 3339 UTC time of the form 2006-01-02T15:04:05Z`);
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
      if (as.peg === "sat" && (as.currency !== undefined || as.price !== undefined)) fail("malformed", `sat-pegged asset ${as.code} names a currency or price`);
      // An ISO 4217 code's form: three ASCII capitals A to Z (verify isCurrencyCode).
      if (as.peg === "fiat" && !/^[A-Z]{3}$/.test(as.currency || "")) fail("malformed", `fiat-pegged asset ${as.code} has currency ${goQuote(as.currency || "")}, not a three-letter ISO 4217 code`);
      const pr = as.peg === "fiat" ? as.price : undefined;
      if (pr !== undefined) {
        if (pr.currency !== as.currency) fail("malformed", `asset ${as.code} is pegged to ${as.currency || ""} but priced in ${pr.currency}`);
        if (bigint(pr.coefficient, `price of ${as.code}`) <= 0n) fail("malformed", `the price of asset ${as.code} is not positive`);
        if (pr.scale < 0 || pr.scale > 18) fail("malformed", `the price of asset ${as.code} has scale ${pr.scale}, outside 0 to 18`);
        if (timeSeconds(pr.time) === null) fail("malformed", `the price of asset ${as.code} has time ${goQuote(pr.time)}, not of the form 2006-01-02T15:04:05Z`);
      }
      if (as.min_coverage_bps < 0 || as.min_coverage_bps > 1000000) fail("malformed", `asset ${as.code} has a minimum coverage of ${as.min_coverage_bps} basis points, outside 0 to 1000000`);
      const l = as.liabilities;
      if (!isLowerHex(l.root, 64)) fail("malformed", `the liability root of asset ${as.code} is not 64 lower-case hex digits`);
      if (l.height < 0 || l.height > 32) fail("malformed", `the liability tree of asset ${as.code} has height ${l.height}, outside 0 to 32`);
      // Version 3 trees hold shares: checkStructureV3 counts their leaves.
      else if (l.shares === undefined && BigInt(l.accounts) > 1n << BigInt(l.height)) fail("malformed", `asset ${as.code} claims ${l.accounts} accounts, more than a tree of height ${l.height} holds`);
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
    checkStructureV2(a);
    checkStructureV3(a);
  }
  // checkStructureV3 mirrors verify checkShapeV3 for version 3 documents
  // (version 2 liability trees, docs/proofs.md 3.15 and 4.2): every asset
  // states its share count, window and tree id, no two assets share a tree
  // id, and each issuer-held account carries its journal sequence and a
  // share-set proof instead of a version 1 proof. Sentences as Go's.
  function checkStructureV3(a) {
    if (a.version < 3) return;
    const seen = new Map();
    for (const as of a.assets) {
      const l = as.liabilities;
      const k = l.shares === undefined ? 0 : l.shares;
      const accounts = BigInt(l.accounts);
      if (!validShares(k)) fail("malformed", `the liabilities of asset ${as.code} split every balance into ${k} shares, not 1, 2 or 4`);
      if (l.height >= 0 && l.height <= MAX_HEIGHT && accounts <= 1n << BigInt(MAX_HEIGHT) && accounts * BigInt(k) > 1n << BigInt(l.height)) {
        fail("malformed", `asset ${as.code} claims ${accounts} accounts of ${k} shares, more leaves than a tree of height ${l.height} holds`);
      }
      if (l.window === undefined) fail("malformed", `the liabilities of asset ${as.code} state no window`);
      if (l.window < 0 || l.window > l.height) fail("malformed", `the liabilities of asset ${as.code} have window ${l.window}, outside 0 to the tree height ${l.height}`);
      else if (accounts > 0n && validShares(k) && 2 ** l.window < k) {
        fail("malformed", `the liabilities of asset ${as.code} have window ${l.window}, too small for ${k} shares (2^window must be at least the share count)`);
      }
      if (!isLowerHex(l.tree_id, 64)) fail("malformed", `the liability tree id of asset ${as.code} is not 64 lower-case hex digits`);
      if (seen.has(l.tree_id)) fail("malformed", `assets ${seen.get(l.tree_id)} and ${as.code} publish the same liability tree id ${l.tree_id}; every tree has its own`);
      seen.set(l.tree_id, as.code);
    }
    for (const ia of a.issuer_accounts || []) {
      if (ia.proof !== undefined) fail("malformed", `issuer account ${ia.account} in ${ia.asset} has a version 1 proof; a version 3 attestation lists share-set proofs (share_proof)`);
      if (ia.seq === undefined || ia.seq < 0) fail("malformed", `issuer account ${ia.account} in ${ia.asset} states no journal sequence (seq, at least 0)`);
      if (BigInt(ia.seq) > BigInt(a.journal_cutoff)) {
        fail("malformed", `issuer account ${ia.account} in ${ia.asset} has journal sequence ${ia.seq}, after the attestation's cut-off ${a.journal_cutoff}`);
      }
    }
  }
  // parseShortChannelID parses "block x tx x output" in canonical decimal
  // (attest.ParseShortChannelID) into [block, tx, output], or null.
  function parseShortChannelID(s) {
    const parts = s.split("x");
    if (parts.length !== 3) return null;
    const v = [];
    for (const p of parts) {
      if (!/^(0|[1-9][0-9]{0,9})$/.test(p) || Number(p) > 0xffffffff) return null;
      v.push(Number(p));
    }
    return v[0] < 1 << 24 && v[1] < 1 << 24 && v[2] < 1 << 16 ? v : null;
  }
  function compareProofs(x, y) {
    if (x.block.height !== y.block.height) return x.block.height < y.block.height ? -1 : 1;
    return x.tx < y.tx ? -1 : x.tx > y.tx ? 1 : 0;
  }
  const MAX_SCRIPT_SIZE = 10000;
  // checkAnchorRef mirrors verify checkAnchorRef: the bitcoin anchor a
  // version 2 document lists (docs/proofs.md 4.14) is of an earlier
  // attestation, with well-formed hashes. Whether the transaction exists is
  // for koshverify and its node.
  function checkAnchorRef(a) {
    const r = a.anchor;
    if (r === undefined) return;
    if (r.seq < 1 || r.seq >= a.seq) fail("malformed", `the anchor commits to attestation ${r.seq}; an attestation lists an anchor of an earlier one (1 to ${a.seq - 1})`);
    for (const [name, v] of [["id", r.id], ["txid", r.txid], ["block_hash", r.block_hash]]) {
      if (!isLowerHex(v, 64)) fail("malformed", `the anchor's ${name} ${goQuote(v)} is not 64 lower-case hex digits`);
    }
    if (r.height < 1) fail("malformed", `the anchor's block height ${r.height} is not positive`);
  }
  // ----------------------------------------------- issuer-held accounts
  // docs/proofs.md 4.15, verify checkIssuerAccounts. cmpUTF8 orders strings
  // as Go does, by their UTF-8 bytes (JavaScript's < compares UTF-16 code
  // units, which differ past U+FFFF).
  function cmpUTF8(x, y) {
    const a = utf8(x), b = utf8(y);
    for (let i = 0; i < a.length && i < b.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
    return a.length - b.length;
  }
  // decodeIssuerAccounts reads each listed account's proof, salt and
  // share-set proof as Go's decoder does when it parses the document
  // (document order: proof, salt, share_proof; each only when present but
  // the salt), with its sentences; the parsed document is left as it is
  // (its id is computed from it).
  function decodeIssuerAccounts(doc) {
    return (doc.issuer_accounts || []).map((ia) => {
      try {
        const proof = ia.proof === undefined ? null : decodeProofJSON(ia.proof);
        const salt = decodeHash32(ia.salt, "salt");
        const shareProof = ia.share_proof === undefined ? null : decodeShareProofJSON(ia.share_proof);
        return { proof, salt, shareProof };
      } catch (e) {
        if (e instanceof KoshError) shapeFail(e.message);
        throw e;
      }
    });
  }
  // checkIssuerAccountRules: sorted by asset, then account, each once; of
  // a listed asset; named; a positive balance. Sentences as Go's.
  function checkIssuerAccountRules(a) {
    (a.issuer_accounts || []).forEach((ia, i) => {
      const prev = i > 0 ? a.issuer_accounts[i - 1] : null;
      if (prev && (cmpUTF8(prev.asset, ia.asset) || cmpUTF8(prev.account, ia.account)) >= 0) {
        fail("malformed", `issuer account ${ia.account} in ${ia.asset} is out of order or repeated (issuer accounts must be sorted by asset, then account)`);
      }
      if (ia.name === "") fail("malformed", `issuer account ${ia.account} in ${ia.asset} has no name`);
      if (BigInt(ia.balance) <= 0n) fail("malformed", `issuer account ${ia.account} in ${ia.asset} has a balance of ${ia.balance}; only positive balances are listed`);
      if (!a.assets.some((as) => as.code === ia.asset)) fail("malformed", `issuer account ${ia.account} names asset ${goQuote(ia.asset)}, which the attestation does not list`);
    });
  }
  // assetRoot is attest Asset.Root: the version 1 tree root an asset's
  // liabilities publish, or null when the root is not 64 lower-case hex.
  function assetRoot(as) {
    const l = as.liabilities;
    if (!isLowerHex(l.root, 64)) return null;
    return { hash: l.root, sum: amount(l.total, "liability total"), height: l.height, count: amount(l.accounts, "account count") };
  }
  // assetShareRoot is attest Asset.ShareRoot (attestation version 3): the
  // version 2 tree root, with the share count, window and tree id, or
  // {error} with Go's sentence.
  function assetShareRoot(as) {
    const r = assetRoot(as);
    if (!r) return { error: `the liability root of asset ${as.code} is not 64 lower-case hex digits` };
    const l = as.liabilities;
    r.shares = l.shares === undefined ? 0 : l.shares;
    if (l.window === undefined) return { error: `the liabilities of asset ${as.code} state no window` };
    r.window = l.window;
    if (!isLowerHex(l.tree_id, 64)) return { error: `the liability tree id of asset ${as.code} is not 64 lower-case hex digits` };
    r.treeID = l.tree_id;
    return { root: r };
  }
  // issuerAccountInTree mirrors verify issuerAccountInTree: one listed
  // account's proof against its asset's tree, by the document's version;
  // failures that checkStructure reports are skipped, as in Go.
  async function issuerAccountInTree(a, as, ia, dec) {
    const balance = BigInt(ia.balance);
    const notIn = (e) => {
      if (!(e instanceof KoshError)) throw e;
      fail("inclusion", `issuer account ${ia.account} with balance ${balance} is not in the ${ia.asset} liability tree of this attestation: ${e.message}`);
    };
    if (a.version < 3) {
      const root = assetRoot(as);
      if (!root) return; // reported by checkStructure
      if (!dec.proof) fail("inclusion", `issuer account ${ia.account} in ${ia.asset} has no inclusion proof`);
      try {
        await verifyInclusion(root, ia.account, dec.salt, balance, dec.proof);
      } catch (e) {
        notIn(e);
      }
      return;
    }
    const sr = assetShareRoot(as);
    if (sr.error || ia.seq === undefined || ia.seq < 0) return; // reported by checkStructure
    if (!dec.shareProof) fail("inclusion", `issuer account ${ia.account} in ${ia.asset} has no share-set proof`);
    try {
      await verifyShares(sr.root, as.code, ia.account, BigInt(ia.seq), dec.salt, balance, dec.shareProof);
    } catch (e) {
      notIn(e);
    }
  }
  // checkIssuerAccounts verifies each listed account's inclusion proof
  // (version 2) or share-set proof (version 3) against its asset's
  // liability root with exactly the listed balance (and, in version 3,
  // journal sequence), so the published balance is the one counted in the
  // liabilities.
  async function checkIssuerAccounts(a) {
    if (a.version < 2) return [];
    const decoded = decodeIssuerAccounts(a);
    const out = [];
    for (const [i, ia] of (a.issuer_accounts || []).entries()) {
      const as = a.assets.find((x) => x.code === ia.asset);
      await issuerAccountInTree(a, as, ia, decoded[i]);
      const e = { asset: ia.asset, account: ia.account, name: ia.name, balance: BigInt(ia.balance) };
      if (ia.seq !== undefined) e.seq = ia.seq;
      out.push(e);
    }
    return out;
  }
  // checkStructureV2 mirrors attest checkShapeV2 for version 2 documents.
  function checkStructureV2(a) {
    if (a.version < 2) return;
    checkAnchorRef(a);
    checkIssuerAccountRules(a);
    const c = a.counting;
    if (c.proof_max_age === undefined || c.proof_max_age < 0) fail("malformed", "the counting rules state no proof age (proof_max_age, a number of blocks, at least 0)");
    if (!c.lightning_claimed) fail("malformed", "the counting rules state no rule for claimed channels (lightning_claimed)");
    const h = c.lightning_claimed.haircut_bps;
    if (h < 0 || h > 10000) fail("malformed", `the lightning_claimed haircut of ${h} basis points is outside 0 to 10000`);
    if (!a.reserves.totals.lightning_claimed) fail("malformed", "the reserve totals have no claimed-channel totals (lightning_claimed)");
    const proofs = a.reserves.proofs || [];
    const used = proofs.map(() => false);
    for (const u of a.reserves.onchain) {
      const sc = u.script === undefined ? "" : u.script;
      if (!/^([0-9a-f]{2})+$/.test(sc) || sc.length > 2 * MAX_SCRIPT_SIZE) {
        fail("malformed", `on-chain output ${u.outpoint} has script ${goQuote(sc)}, not 1 to ${MAX_SCRIPT_SIZE} bytes in lower-case hex`);
      }
      if (u.proof !== undefined) {
        if (u.proof < 0 || u.proof >= proofs.length) fail("malformed", `on-chain output ${u.outpoint} names proof ${u.proof}, but ${proofs.length} proofs are listed`);
        used[u.proof] = true;
      }
    }
    proofs.forEach((pr, i) => {
      if (!used[i]) fail("malformed", `proof ${i} is named by no listed output`);
      if (pr.block.height < 0 || !isLowerHex(pr.block.hash, 64)) fail("malformed", `proof ${i} names block ${pr.block.height} ${goQuote(pr.block.hash)}, not a height and 64 lower-case hex digits`);
      if (pr.block.height === a.block.height && pr.block.hash !== a.block.hash) {
        fail("control", `proof ${i} commits to block ${pr.block.hash} at height ${pr.block.height}, but the attested block at that height is ${a.block.hash}`);
      }
      if (i > 0 && compareProofs(proofs[i - 1], pr) >= 0) fail("malformed", `proof ${i} is out of order or repeated (proofs must be sorted by block height, then transaction)`);
    });
    for (const n of a.reserves.lightning) {
      for (const ch of n.channels) {
        const ev = ch.evidence === undefined ? "" : ch.evidence;
        if (ev !== "announced" && ev !== "claimed") fail("malformed", `channel ${ch.channel_point} has evidence ${goQuote(ev)}, neither "announced" nor "claimed"`);
        const scid = ch.short_channel_id;
        if (scid === undefined) {
          if (ev === "announced") fail("malformed", `announced channel ${ch.channel_point} has no short channel id`);
          continue;
        }
        const sc = parseShortChannelID(scid);
        if (!sc) fail("malformed", `channel ${ch.channel_point} has short channel id ${goQuote(scid)}, not block x tx x output`);
        const fb = sc[0], H = a.block.height;
        if ((fb > H && ch.confirmations !== 0) || (fb <= H && ch.confirmations !== H - fb + 1)) {
          fail("malformed", `channel ${ch.channel_point} has ${ch.confirmations} confirmations, but its short channel id ${scid} puts its funding at block ${fb}`);
        }
      }
    }
  }
  // checkProofs mirrors attest checkProofs: every proof of control is
  // verified, and every output that names one must be spent by it, with
  // the listed value and script, and proven. Go reports every failure; this
  // returns them in Go's order as {msg, exact} (exact: Go's very sentence;
  // not so for a proof all of whose inputs fail, where Go quotes the script
  // interpreter's message), and the outputs whose proof uses a script this
  // verifier does not check.
  async function checkProofs(a) {
    const problems = [];
    const unchecked = [];
    let verified = 0;
    const by = new Map();
    const proofs = a.reserves.proofs || [];
    for (const [i, pr] of proofs.entries()) {
      let tx;
      try {
        tx = decodeProofTx(pr.tx);
      } catch (e) {
        if (e instanceof KoshError || e.exact === undefined) throw e;
        problems.push({ msg: `proof ${i} cannot be read: ${e.message}`, exact: e.exact });
        continue;
      }
      const prevouts = [];
      let unreadable = false;
      for (const po of pr.prevouts) {
        if (po.script.length % 2 !== 0 || !/^[0-9a-f]*$/.test(po.script) || po.script.length > 2 * MAX_SCRIPT_SIZE) {
          unreadable = true;
          break;
        }
        prevouts.push({ value: BigInt(po.value), script: fromHex(po.script) });
      }
      if (unreadable) {
        problems.push({ msg: `proof ${i} cannot be read: a listed previous output's script is not lower-case hex`, exact: true });
        continue;
      }
      const res = await verifyControl({ issuer_key: a.issuer_key, height: pr.block.height, hash: pr.block.hash }, tx, prevouts);
      let whole = false;
      if (res.error) {
        problems.push({ msg: `proof ${i} proves nothing: ${res.error}`, exact: true });
        whole = true;
      } else if (res.inputs.every((x) => x.result === BAD_SCRIPT || x.result === NO_COMMIT)) {
        // Go's sentence carries the interpreter's message for the first
        // input; the per-output sentences below are exact.
        const x = res.inputs[0];
        problems.push({ msg: `proof ${i} proves nothing: the proof's signature for output ${x.outpoint} ${x.result === BAD_SCRIPT ? REASON_SCRIPT : REASON_COMMIT}`, exact: false });
        whole = true;
      }
      for (let j = 1; j < tx.inputs.length; j++) {
        if (j - 1 >= pr.prevouts.length) break;
        const op = outpointString(tx.inputs[j].hash, tx.inputs[j].index);
        by.set(op + "#" + i, { prev: pr.prevouts[j - 1], result: whole ? "whole" : res.inputs[j - 1].result });
      }
    }
    for (const u of a.reserves.onchain) {
      if (u.proof === undefined || u.proof < 0 || u.proof >= proofs.length) continue;
      const pb = by.get(u.outpoint + "#" + u.proof);
      const about = `the proof of control over on-chain output ${u.outpoint} (proof ${u.proof})`;
      if (!pb) problems.push({ msg: `on-chain output ${u.outpoint} names proof ${u.proof}, which does not spend it`, exact: true });
      else if (pb.prev.value !== u.value || pb.prev.script !== (u.script || "")) {
        problems.push({ msg: `on-chain output ${u.outpoint} is listed with ${u.value} sats and script ${u.script || ""}, but proof ${u.proof} spends it as ${pb.prev.value} sats and script ${pb.prev.script}`, exact: true });
      } else if (pb.result === "whole") problems.push({ msg: `${about} is in a proof that proves nothing`, exact: true });
      else if (pb.result === BAD_SCRIPT) problems.push({ msg: `${about} ${REASON_SCRIPT}`, exact: true });
      else if (pb.result === NO_COMMIT) problems.push({ msg: `${about} ${REASON_COMMIT}`, exact: true });
      else if (pb.result === UNCHECKED) unchecked.push({ outpoint: u.outpoint, proof: u.proof, why: "script type not checked in the browser; run koshverify" });
      else verified++;
    }
    return { problems, unchecked, verified };
  }
  // checkPriceSources: a price listing oracle sources is their lower median
  // and states their largest deviation, rounded up (proofs/verify
  // checkSources), with Go's sentences.
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
      if (timeSeconds(s.time) === null) fail("malformed", `price source ${s.name} of asset ${code} has time ${goQuote(s.time)}, not of the form 2006-01-02T15:04:05Z`);
      vals.push(at18(s.coefficient, s.scale));
    });
    const price = at18(p.coefficient, p.scale);
    const sorted = vals.slice().sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
    const med = sorted[Math.floor((sorted.length - 1) / 2)];
    if (med !== price) {
      fail("sum", `the price of asset ${code} is ${decimalString(p.coefficient, p.scale)}, but the lower median of its ${vals.length} sources is ${decimalString(med, 18)}`);
    }
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
  // The newest attestation format version this verifier reads (attest.Version).
  const MAX_VERSION = 3;
  // checkReencoding mirrors the last step of attest.Parse, which re-encodes
  // the decoded document and compares: a member Go leaves out when it is 0
  // (an int with omitempty: a price's spread_bps, the liabilities' shares)
  // but the document writes as 0 does not survive the round trip. The
  // shape (strictRead) rules out every other difference.
  function checkReencoding(doc) {
    const zero = doc.assets.some((as) => (as.price && as.price.spread_bps === 0) || as.liabilities.shares === 0);
    if (zero) {
      fail("canonical", "the document is canonical JSON but not the canonical encoding of its fields (a member is missing, null, empty where it must be left out, or of the wrong type)");
    }
  }
  // parseAttestation checks that bytes are a canonical attestation document
  // and returns it parsed, with its id.
  async function parseAttestation(bytes) {
    if (typeof bytes === "string") bytes = utf8(bytes);
    if (bytes.length > MAX_DOC) fail("malformed", "the document is larger than the 64 MiB limit");
    const r = strictRead(bytes, SCHEMA);
    if (r.error) {
      fail("malformed", r.error.syntax ? `the document is not valid JSON (${r.error.msg})` : `the document does not have the attestation shape (${r.error.msg})`);
    }
    const doc = r.value;
    if (!isCanonical(bytes)) fail("canonical", "the document is not in RFC 8785 canonical form, so its hash would differ from the signed one");
    checkShape(doc, SCHEMA, "");
    decodeIssuerAccounts(doc);
    checkReencoding(doc);
    if (doc.version < 1 || doc.version > MAX_VERSION) fail("malformed", `the attestation has version ${doc.version}, but this verifier reads versions 1 to ${MAX_VERSION}`);
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
    const v2 = doc.version >= 2;
    check("on-chain reserve total", g(got.onchain, "listed", "on-chain listed total"), want.onchain.listed, "the listed outputs add up to");
    check("eligible on-chain total", g(got.onchain, "eligible", "eligible on-chain total"), want.onchain.eligible,
      v2 ? `the outputs with at least ${mc} confirmations and a proof of control within ${proofMaxAge(doc)} blocks add up to` : `the outputs with at least ${mc} confirmations add up to`);
    check("counted on-chain total", g(got.onchain, "counted", "counted on-chain total"), want.onchain.counted, "the counting rules give");
    check("Lightning capacity total", g(got.lightning, "capacity", "Lightning capacity total"), want.lightning.capacity, "the listed channel capacities add up to");
    check("Lightning local balance total", g(got.lightning, "local_balance", "Lightning local balance total"), want.lightning.local_balance, "the listed local balances add up to");
    check("eligible Lightning total", g(got.lightning, "eligible", "eligible Lightning total"), want.lightning.eligible,
      v2 ? "the announced channels' counted amounts add up to" : "the channels' counted amounts add up to");
    check("counted Lightning total", g(got.lightning, "counted", "counted Lightning total"), want.lightning.counted, "the counting rules give");
    if (got.lightning_claimed && want.lightning_claimed) {
      check("eligible claimed-channel total", g(got.lightning_claimed, "eligible", "eligible claimed-channel total"), want.lightning_claimed.eligible, "the claimed channels' counted amounts add up to");
      check("counted claimed-channel total", g(got.lightning_claimed, "counted", "counted claimed-channel total"), want.lightning_claimed.counted, "the counting rules give");
    }
    check("counted reserve total", g(got, "counted", "counted reserve total"), want.counted, "the counted classes add up to");

    const cov = computeCoverage(want.counted, doc.assets);
    const c = doc.coverage;
    const cr = amount(c.counted_reserves, "coverage's counted reserves");
    if (cr !== want.counted) fail("coverage", `the coverage is computed on ${cr} sats of reserves but the counted reserve total is ${want.counted} sats`);
    const req = amount(c.required, "required reserves");
    if (req !== cov.required) fail("coverage", `the required reserves are stated as ${req} sats but the liabilities at each asset's minimum coverage need ${cov.required} sats`);
    const back = amount(c.backing, "backing");
    if (back !== cov.backing) fail("coverage", `the liabilities are stated to be worth ${back} sats but they are worth ${cov.backing} sats`);
    const bps = BigInt(c.bps); // checkShape: at most 111 digits
    if (bps !== cov.bps) fail("coverage", `the coverage is stated as ${bps} basis points but the reserves and liabilities give ${cov.bps}`);
    if (c.backed !== cov.backed) {
      fail("coverage", c.backed
        ? `the attestation says the liabilities are backed, but ${want.counted} sats of counted reserves are less than the ${cov.required} sats required`
        : `the attestation says the liabilities are not backed, but ${want.counted} sats of counted reserves meet the ${cov.required} sats required`);
    }
    let control = { problems: [], unchecked: [], verified: 0 };
    if (doc.version >= 2) {
      control = await checkProofs(doc);
      const first = control.problems.find((p) => p.exact) || control.problems[0];
      if (first) fail("control", first.msg);
    }
    const issuerAccounts = await checkIssuerAccounts(doc);
    return {
      id, doc, seq: doc.seq, version: doc.version, counted: want.counted, backing: cov.backing, required: cov.required, bps: cov.bps, backed: cov.backed, stale: !!doc.stale,
      totals: want, reserves: describeReserves(doc), unchecked: control.unchecked, proofsVerified: control.verified,
      issuerAccounts,
    };
  }
  // describeReserves says, of a verified document, which outputs count and
  // why the others do not, and which channels are announced or claimed:
  // what the page shows beside the verdict.
  function describeReserves(a) {
    const counted = [], uncounted = [];
    for (const u of a.reserves.onchain) {
      const why = uncountedReason(a, u);
      (why ? uncounted : counted).push({ outpoint: u.outpoint, value: BigInt(u.value), reason: why });
    }
    const announced = [], claimed = [];
    for (const n of a.reserves.lightning) {
      for (const c of n.channels) {
        const ch = { channel_point: c.channel_point, node: n.name, pubkey: n.pubkey, capacity: BigInt(c.capacity), counted: BigInt(c.counted), short_channel_id: c.short_channel_id || "" };
        (isClaimed(a, c) ? claimed : announced).push(ch);
      }
    }
    return {
      onchain: { counted, uncounted },
      lightning: { announced, claimed, claimedCounts: a.version >= 2 && !!(a.counting.lightning_claimed && a.counting.lightning_claimed.counts) },
      proofMaxAge: proofMaxAge(a),
      minConfirmations: a.counting.min_confirmations,
    };
  }
  // lenientVersion mirrors how attest.ParseBundle picks the shape: Go's
  // json.Unmarshal of the bytes into {Version int}, which ignores every
  // error, matches member names case-insensitively (Go's fold: upper case
  // of the lower case, so "VERSION" and "verſion" match), lets a later
  // match override an earlier one, and leaves the value as it was for a
  // value that is not an integer of int64 (a string, 2.0, 2e0, null).
  function lenientVersion(bytes) {
    let v;
    try {
      v = strictParse(bytes);
    } catch (e) {
      if (e && e.strict) return 0n; // invalid JSON: Unmarshal sets nothing
      throw e;
    }
    if (v.k !== "obj") return 0n;
    const fold = (name) => Array.from(name, (c) => (c.charCodeAt(0) < 0x80 ? c.toUpperCase() : c.toLowerCase().toUpperCase())).join("");
    let version = 0n;
    for (const [name, val] of v.obj) {
      if (fold(name) !== "VERSION" || val.k !== "num" || !/^-?(0|[1-9][0-9]*)$/.test(val.s)) continue;
      const n = BigInt(val.s);
      if (n >= -(1n << 63n) && n < 1n << 63n) version = n;
    }
    return version;
  }
  // parseBundle decodes an inclusion bundle (text or bytes) as
  // proofs/attest ParseBundle does: strictRead with the shape of the
  // bundle's version (BUNDLE_SCHEMA, or BUNDLE_SCHEMA_2 for version 2),
  // then the version, the salt, the balance, the sequence (version 2) and
  // the proof, in that order.
  const MAX_BUNDLE = 1 << 20;
  function parseBundle(text) {
    const bytes = typeof text === "string" ? utf8(text) : text;
    if (bytes.length > MAX_BUNDLE) fail("malformed", `the inclusion bundle is ${bytes.length} bytes, more than the limit of ${MAX_BUNDLE}`);
    const r = strictRead(bytes, lenientVersion(bytes) === 2n ? BUNDLE_SCHEMA_2 : BUNDLE_SCHEMA);
    if (r.error) {
      fail("malformed", r.error.syntax ? `the inclusion bundle is not valid JSON (${r.error.msg})` : `the inclusion bundle is not of the documented shape (${r.error.msg})`);
    }
    const b = r.value;
    if (b.version !== 1 && b.version !== 2) fail("malformed", `the inclusion bundle has version ${b.version}, but this verifier reads versions 1 and 2`);
    const shape = (f) => {
      try {
        return f();
      } catch (e) {
        if (e instanceof KoshError) fail("malformed", `the inclusion bundle is not of the documented shape (${e.message})`);
        throw e;
      }
    };
    const salt = shape(() => decodeHash32(b.salt, "salt"));
    const balance = parseAmount(b.balance);
    if (balance === null) fail("malformed", "the inclusion bundle is not of the documented shape (its balance is not a canonical decimal amount up to 2^63-1)");
    const out = { version: b.version, attestation: b.attestation, asset: b.asset, account: b.account, salt, balance };
    if (b.version === 1) {
      out.proof = shape(() => decodeProofJSON(b.proof));
      return out;
    }
    if (b.seq < 0) fail("malformed", `the inclusion bundle is not of the documented shape (its seq ${b.seq} is negative)`);
    out.seq = BigInt(b.seq);
    out.shareProof = shape(() => decodeShareProofJSON(b.proof));
    return out;
  }
  // verifyBundle checks a bundle (text) against a verified attestation
  // (the result of verifyAttestation), as verify.Bundle: a version 1
  // bundle's inclusion proof in a version 1 or 2 attestation, a version 2
  // bundle's share-set proof (with the account's last journal sequence, at
  // or before the cut-off) in a version 3 attestation.
  async function verifyBundle(att, text) {
    const b = parseBundle(text);
    const a = att.doc;
    if (b.attestation !== att.id) fail("inclusion", `the inclusion proof is for attestation ${b.attestation}, not for this attestation ${att.id}`);
    const as = a.assets.find((x) => x.code === b.asset);
    if (!as) fail("inclusion", `the attestation lists no asset ${goQuote(b.asset)}`);
    if (a.version < 3 && b.version !== 1) {
      fail("inclusion", `a version ${b.version} inclusion bundle cannot prove inclusion in a version ${a.version} attestation, whose trees take version 1 bundles`);
    }
    if (a.version >= 3 && b.version !== 2) {
      fail("inclusion", `a version ${b.version} inclusion bundle cannot prove inclusion in a version ${a.version} attestation, whose trees take version 2 bundles`);
    }
    const result = { version: b.version, account: b.account, asset: b.asset, balance: b.balance, decimals: as.decimals };
    if (b.version === 1) {
      const root = assetRoot(as);
      if (!root) fail("malformed", `the liability root of asset ${as.code} is not 64 lower-case hex digits`);
      try {
        await verifyInclusion(root, b.account, b.salt, b.balance, b.proof);
      } catch (e) {
        if (!(e instanceof KoshError)) throw e;
        fail("inclusion", `account ${b.account} with balance ${b.balance} is not in the ${b.asset} liability tree of this attestation: ${e.message}`);
      }
      return result;
    }
    const sr = assetShareRoot(as);
    if (sr.error) fail("malformed", sr.error);
    const cutoff = BigInt(a.journal_cutoff);
    if (b.seq > cutoff) fail("inclusion", `the bundle says account ${b.account}'s last entry is at journal sequence ${b.seq}, after the attestation's cut-off ${cutoff}`);
    try {
      await verifyShares(sr.root, b.asset, b.account, b.seq, b.salt, b.balance, b.shareProof);
    } catch (e) {
      if (!(e instanceof KoshError)) throw e;
      fail("inclusion", `account ${b.account} with balance ${b.balance} at journal sequence ${b.seq} is not in the ${b.asset} liability tree of this attestation: ${e.message}`);
    }
    result.seq = b.seq;
    return result;
  }

  // ------------------------------------------------- absence statements
  // proofs/attest absence.go and verify.Absence (docs/proofs.md 5.1): the
  // issuer's signed word that an account is not in an asset's tree of one
  // version 3 attestation, naming the account's last entry in the asset at
  // or before the cut-off. Comparing it with a receipt (verify
  // AbsenceReceipt) is koshverify's business, as for bundles.
  const ABSENCE_VERSION = 1;
  const MAX_ABSENCE = 1 << 16;
  const ABSENCE_SCHEMA = { version: INT, attestation: STR, seq: INT, asset: STR, account: STR, last_seq: INT, issuer_key: STR, signature: STR };
  // parseAbsence decodes a statement (text or bytes) as attest.ParseAbsence:
  // its shape strictly, then its version.
  function parseAbsence(text) {
    const bytes = typeof text === "string" ? utf8(text) : text;
    if (bytes.length > MAX_ABSENCE) fail("malformed", `the absence statement is ${bytes.length} bytes, more than the limit of ${MAX_ABSENCE}`);
    const r = strictRead(bytes, ABSENCE_SCHEMA);
    if (r.error) {
      fail("malformed", r.error.syntax ? `the absence statement is not valid JSON (${r.error.msg})` : `the absence statement is not of the documented shape (${r.error.msg})`);
    }
    const s = r.value;
    if (s.version !== ABSENCE_VERSION) fail("malformed", `the absence statement has version ${s.version}, but this verifier reads version ${ABSENCE_VERSION}`);
    return s;
  }
  // checkAbsenceSignature is Absence.Verify: the signature over
  // TaggedHash("kosh/absence", canonical statement without the signature)
  // under the issuer key the statement names.
  async function checkAbsenceSignature(s) {
    if (!isLowerHex(s.issuer_key, 64) || !liftX(bytesToBig(fromHex(s.issuer_key)))) {
      fail("malformed", "the absence statement's issuer key is not a BIP-340 x-only public key in 64 lower-case hex digits");
    }
    if (!isLowerHex(s.signature, 128)) fail("malformed", "the absence statement's signature is not 128 lower-case hex digits");
    const unsigned = Object.assign({}, s);
    delete unsigned.signature;
    const d = await taggedHash("kosh/absence", utf8(serialize(unsigned, 0)));
    if (!(await schnorrVerify(fromHex(s.issuer_key), d, fromHex(s.signature)))) {
      fail("signature", `the absence statement's signature does not verify under issuer key ${s.issuer_key}`);
    }
  }
  // verifyAbsence checks a statement (text) against a verified attestation
  // (the result of verifyAttestation), as verify.Absence: the same id,
  // sequence and issuer key, a version 3 document, a last entry at or
  // before the cut-off, an asset the attestation lists, and the signature.
  async function verifyAbsence(att, text) {
    const s = parseAbsence(text);
    const a = att.doc;
    if (s.attestation !== att.id || s.seq !== a.seq) {
      fail("inclusion", `the absence statement is for attestation ${s.seq} (${s.attestation}), not for this attestation ${a.seq} (${att.id})`);
    }
    if (s.issuer_key !== a.issuer_key) fail("signature", `the absence statement is signed by issuer key ${s.issuer_key}, not by this attestation's ${a.issuer_key}`);
    if (a.version < 3) fail("inclusion", `attestation ${a.seq} is version ${a.version}; absence statements are made for version 3 attestations`);
    const cutoff = BigInt(a.journal_cutoff);
    if (s.last_seq < 0 || BigInt(s.last_seq) > cutoff) {
      fail("malformed", `the absence statement names last entry ${s.last_seq}, outside 0 to the attestation's cut-off ${cutoff}`);
    }
    const as = a.assets.find((x) => x.code === s.asset);
    if (!as) fail("inclusion", `the attestation lists no asset ${goQuote(s.asset)}`);
    await checkAbsenceSignature(s);
    return { account: s.account, asset: s.asset, lastSeq: s.last_seq };
  }

  // ------------------------------------------------------------ anchors
  // The commitment a bitcoin anchor carries (docs/proofs.md 4.14,
  // proofs/anchor): the arithmetic the page can check without a node.
  async function anchorCommitment(issuerKeyHex, seq, idHex) {
    return toHex(await taggedHash("kosh/anchor", fromHex(issuerKeyHex), u64be(seq), fromHex(idHex)));
  }
  // anchorScript is the anchor transaction's OP_RETURN output script.
  async function anchorScript(issuerKeyHex, seq, idHex, prevHeight) {
    const c = fromHex(await anchorCommitment(issuerKeyHex, seq, idHex));
    return toHex(concat(new Uint8Array([0x6a, 49]), utf8("KOSH"), new Uint8Array([1]), u64be(seq), c, u32be(prevHeight)));
  }
  // runAnchorVectors checks testdata/anchor/vectors.json.
  async function runAnchorVectors(v, t) {
    for (const c of v.cases) {
      t.ok(await anchorCommitment(c.issuer_key, c.seq, c.id) === c.commitment, `anchor seq ${c.seq}: commitment`);
      t.ok(await anchorScript(c.issuer_key, c.seq, c.id, c.prev_height) === c.script, `anchor seq ${c.seq}: script`);
    }
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
      if (p.anchor !== undefined && c.anchor === undefined) {
        fail("chain", `attestation ${c.seq} lists no anchor, but attestation ${p.seq} listed an anchor of attestation ${p.anchor.seq}: an anchored chain never drops its anchor`);
      }
    }
    // An anchor of an attestation in the list must name its id: the
    // commitment arithmetic checked without a node.
    const ids = new Map(list.map((x) => [x.doc.seq, x.id]));
    for (const x of list) {
      const r = x.doc.anchor;
      if (r !== undefined && ids.has(r.seq) && ids.get(r.seq) !== r.id) {
        fail("chain", `attestation ${x.doc.seq} lists an anchor of attestation ${r.seq} with id ${r.id}, but attestation ${r.seq} in this chain has id ${ids.get(r.seq)}: this is not the anchored history`);
      }
    }
    checkTreeIDs(list);
  }
  // checkTreeIDs mirrors verify checkTreeIDs: two version 3 attestations of
  // a chain never publish one liability tree id (the id hashes the
  // attestation's fresh seed, so a repeated id is a replayed tree).
  function checkTreeIDs(list) {
    const seen = new Map();
    for (const { doc: a } of list) {
      if (a.version < 3) continue;
      for (const as of a.assets) {
        const id = as.liabilities.tree_id;
        if (id === undefined || id === "") continue;
        if (seen.has(id) && seen.get(id) !== a.seq) {
          fail("chain", `attestation ${a.seq} publishes the ${as.code} liability tree id ${id} of attestation ${seen.get(id)}: a tree replayed from an earlier attestation`);
        }
        seen.set(id, a.seq);
      }
    }
  }

  // ------------------------------------------------ the holder's policy
  // proofs/verify policy.go, rule for rule and sentence for sentence
  // (docs/proofs.md §4.6): a document that verifies is judged by the
  // holder's own minimum coverage and price-age bound; what the issuer
  // says of itself (min_coverage_bps, backed, stale_sources) is only its
  // declaration. testdata/policy/vectors.json pins both implementations.
  const POLICY_DEFAULT = Object.freeze({ minCoverageBps: 10000, maxPriceAgeSeconds: 3600, maxBehind: 6 });
  const MAX_MIN_COVERAGE_BPS = 1000000;
  // formatRatio writes basis points (BigInt) as a ratio with 2 to 4
  // decimals, rounded down (verify.FormatRatio).
  function formatRatio(bps) {
    bps = BigInt(bps);
    let f = (bps % BPS).toString().padStart(4, "0");
    while (f.length > 2 && f.endsWith("0")) f = f.slice(0, -1);
    return (bps / BPS).toString() + "." + f;
  }
  // formatAge writes seconds as hours, minutes and seconds without the
  // parts that are 0 (verify.FormatAge).
  function formatAge(secs) {
    if (secs === 0) return "0s";
    const h = Math.floor(secs / 3600), m = Math.floor((secs % 3600) / 60), sec = secs % 60;
    return (h ? h + "h" : "") + (m ? m + "m" : "") + (sec ? sec + "s" : "");
  }
  // parseRatio reads a holder's minimum coverage as typed ("1.00": at most
  // 4 decimals, 0 to 100) into basis points, or throws with
  // verify.ParseRatio's sentence.
  function parseRatio(s) {
    const m = /^([0-9]{1,3})(?:\.([0-9]{1,4}))?$/.exec(s);
    if (!m) fail("policy", `${goQuote(s)} is not a ratio such as 1.00 (digits, at most 4 decimals)`);
    const bps = Number(m[1]) * 10000 + Number(((m[2] || "") + "0000").slice(0, 4));
    if (bps > MAX_MIN_COVERAGE_BPS) fail("policy", `${goQuote(s)} is more than the largest minimum coverage, 100.00`);
    return bps;
  }
  // decimalString writes coefficient / 10^scale in decimal.
  function decimalString(coef, scale) {
    let s = BigInt(coef).toString();
    if (scale <= 0) return s;
    if (s.length <= scale) s = "0".repeat(scale - s.length + 1) + s;
    return s.slice(0, s.length - scale) + "." + s.slice(s.length - scale);
  }
  // timeSeconds reads a document time (2006-01-02T15:04:05Z exactly) as
  // Unix seconds, or null.
  function timeSeconds(s) {
    if (typeof s !== "string" || !/^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$/.test(s)) return null;
    const ms = Date.parse(s);
    if (Number.isNaN(ms) || new Date(ms).toISOString() !== s.slice(0, -1) + ".000Z") return null;
    return ms / 1000;
  }
  // checkPolicy judges a parsed attestation (one that verifies) by the
  // holder's policy {minCoverageBps, maxPriceAgeSeconds}, as
  // verify.Policy.Check: it returns {failures, warnings, declarations,
  // coverageBps (BigInt, or null when nothing is outstanding), summary}.
  function checkPolicy(a, policy = POLICY_DEFAULT) {
    const failures = [], warnings = [], declarations = [];
    const maxAge = policy.maxPriceAgeSeconds, min = BigInt(policy.minCoverageBps);
    for (const n of a.reserves.lightning) {
      for (const c of n.channels) {
        const ct = BigInt(c.counted);
        if (ct > 0n && c.confirmations < 1) {
          failures.push(`channel ${c.channel_point} of node ${n.pubkey} counts ${ct} sats with 0 confirmations at the attested block; your policy counts no unconfirmed channel`);
        }
      }
    }
    const at = timeSeconds(a.time);
    if (at === null) failures.push(`the attestation's time ${goQuote(a.time)} cannot be read, so no price's age can be judged`);
    const checkAge = (what, dated, from, ts) => {
      const t = timeSeconds(ts);
      if (t === null) {
        failures.push(`${what} has time ${goQuote(ts)}, which cannot be read, so its age cannot be judged`);
        return;
      }
      const age = at - t;
      if (age < 0) failures.push(`${dated} ${ts}, after the attestation's time ${a.time}`);
      else if (age > maxAge) failures.push(`${from} ${ts}, ${formatAge(age)} before the attestation's time ${a.time}, older than your limit of ${formatAge(maxAge)}`);
    };
    for (const as of a.assets) {
      const pr = as.price;
      if (!pr) continue;
      if (pr.manual) {
        warnings.push(`the price of asset ${as.code}, ${decimalString(pr.coefficient, pr.scale)} ${pr.currency} per BTC, was set by hand by the issuer (manual), not taken from oracle sources`);
      } else if (!pr.sources || pr.sources.length === 0) {
        failures.push(`the price of asset ${as.code} is not marked manual but lists no oracle sources, so nothing shows where it came from`);
      }
      if (at === null) continue;
      const what = `the price of asset ${as.code}`;
      checkAge(what, `${what} is dated`, `${what} is from`, pr.time);
      for (const src of pr.sources || []) {
        const w = `price source ${src.name} of asset ${as.code}`;
        checkAge(w, `${w} is dated`, `${w} quotes from`, src.time);
      }
    }
    // The coverage, recomputed: counted reserves over the exact worth of
    // all liabilities at 1.00, rounded down.
    let coverageBps = null;
    try {
      const cov = computeCoverage(computeTotals(a, true).counted, a.assets);
      if (cov.backing > 0n) {
        coverageBps = cov.bps;
        if (cov.bps < min) {
          for (const as of a.assets) {
            if (BigInt(as.liabilities.total) > 0n) {
              failures.push(`asset ${as.code} is covered at ${formatRatio(cov.bps)} by the reserves counted for all assets, below your minimum coverage of ${formatRatio(min)}`);
            }
          }
        }
      }
    } catch (e) {
      if (!(e instanceof KoshError)) throw e;
      failures.push(`the coverage cannot be computed (${e.message})`);
    }
    const mins = a.assets.map((as) => `${formatRatio(BigInt(as.min_coverage_bps))} for ${as.code}`);
    declarations.push("minimum coverage " + (mins.length ? mins.join(", ") : "none (no assets)"));
    const c = a.coverage;
    declarations.push(`by those minimums the liabilities are ${c.backed ? "backed" : "NOT backed"} (${c.counted_reserves} sats counted, ${c.required} sats required)`);
    declarations.push("stale sources: " + (a.stale_sources.length ? a.stale_sources.join(", ") : "none"));
    let summary = "";
    if (failures.length === 0) {
      summary = `${coverageBps === null ? "nothing is outstanding" : "coverage " + formatRatio(coverageBps)}, your minimum being ${formatRatio(min)}; ` +
        `every price shows its sources or is marked manual, and is at most ${formatAge(maxAge)} older than the attestation`;
    }
    return { failures, warnings, declarations, coverageBps, summary };
  }
  // runPolicyVectors checks testdata/policy/vectors.json: every case's
  // verdict exactly, the ratios as typed, the formats and the ages.
  async function runPolicyVectors(v, t) {
    const d = v.defaults;
    t.ok(d.min_coverage_bps === POLICY_DEFAULT.minCoverageBps && d.max_price_age_seconds === POLICY_DEFAULT.maxPriceAgeSeconds && d.max_behind === POLICY_DEFAULT.maxBehind,
      `defaults ${JSON.stringify(d)} differ from the page's ${JSON.stringify(POLICY_DEFAULT)}`);
    const same = (x, y) => JSON.stringify(x) === JSON.stringify(y);
    for (const c of v.cases) {
      const { doc } = await parseAttestation(utf8(c.document));
      let verifies = true;
      try {
        await verifyAttestation(utf8(c.document));
      } catch (e) {
        verifies = false;
      }
      t.ok(verifies === c.verifies, `policy "${c.name}": verifies ${verifies}, want ${c.verifies}`);
      const r = checkPolicy(doc, { minCoverageBps: c.policy.min_coverage_bps, maxPriceAgeSeconds: c.policy.max_price_age_seconds });
      t.ok(same(r.failures, c.failures), `policy "${c.name}": failures ${JSON.stringify(r.failures)}, want ${JSON.stringify(c.failures)}`);
      t.ok(same(r.warnings, c.warnings), `policy "${c.name}": warnings ${JSON.stringify(r.warnings)}, want ${JSON.stringify(c.warnings)}`);
      t.ok(same(r.declarations, c.declarations), `policy "${c.name}": declarations ${JSON.stringify(r.declarations)}, want ${JSON.stringify(c.declarations)}`);
      const cov = r.coverageBps === null ? "" : r.coverageBps.toString();
      t.ok(cov === c.coverage_bps, `policy "${c.name}": coverage ${cov}, want ${c.coverage_bps}`);
      t.ok(r.summary === c.summary, `policy "${c.name}": summary "${r.summary}", want "${c.summary}"`);
    }
    for (const c of v.ratios) {
      let got = "", bps = 0;
      try {
        bps = parseRatio(c.text);
      } catch (e) {
        got = e.message;
      }
      t.ok(got === c.error && (got !== "" || bps === c.bps), `ratio ${JSON.stringify(c.text)}: ${got ? `"${got}"` : bps}, want ${c.error ? `"${c.error}"` : c.bps}`);
    }
    for (const c of v.formats) t.ok(formatRatio(BigInt(c.bps)) === c.text, `format ${c.bps}: ${formatRatio(BigInt(c.bps))}, want ${c.text}`);
    for (const c of v.ages) t.ok(formatAge(c.seconds) === c.text, `age ${c.seconds}: ${formatAge(c.seconds)}, want ${c.text}`);
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
    for (const [name, docs] of [["chain", v.chain], ["chain_v2", v.chain_v2 || []], ["chain_anchored", v.chain_anchored || []], ["chain_issuer", v.chain_issuer || []]]) {
      try {
        const chain = [];
        for (const d of docs) chain.push(await verifyAttestation(utf8(d)));
        verifyChain(chain, "");
        t.ok(chain.length > 0, `${name}: empty`);
      } catch (e) {
        t.ok(false, `${name}: ${e.message}`);
      }
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
    // Version 3: chain_v3, whose bundles_v3 and absences name their
    // attestation by its index in it.
    const v3 = [];
    for (const d of v.chain_v3 || []) {
      try {
        v3.push(await verifyAttestation(utf8(d), { key: v.issuer_key }));
      } catch (e) {
        t.ok(false, `chain_v3 attestation ${v3.length + 1}: ${e.message}`);
        v3.push(null);
      }
    }
    if (v.chain_v3) {
      t.ok(v3.length > 0 && v3.every((r) => r && r.version === 3), `chain_v3: ${v3.length} documents, not all of version 3`);
      try {
        verifyChain(v3, "");
        t.ok(true);
      } catch (e) {
        t.ok(false, `chain_v3: ${e.message}`);
      }
    }
    for (const c of v.bundles_v3 || []) {
      // Receipts are koshverify's business (verify.Receipt's sequence
      // rule); the page checks the bundle.
      const want = c.receipt ? "" : c.error;
      try {
        const r = await verifyBundle(v3[c.attestation], JSON.stringify(c.bundle));
        t.ok(want === "", `bundle_v3 "${c.name}" verifies, want "${want}"`);
        t.ok(r.version === 2 && String(r.seq) === String(c.bundle.seq), `bundle_v3 "${c.name}": version ${r.version}, seq ${r.seq}`);
      } catch (e) {
        t.ok(e.message === want, `bundle_v3 "${c.name}": "${e.message}", want "${want}"`);
      }
    }
    for (const c of v.absences || []) {
      // Likewise for verify.AbsenceReceipt: the page checks the statement.
      const want = c.receipt ? "" : c.error;
      try {
        const att = c.chain === "chain_v2" ? await verifyAttestation(utf8(v.chain_v2[c.attestation]), { key: v.issuer_key }) : v3[c.attestation];
        await verifyAbsence(att, c.statement);
        t.ok(want === "", `absence "${c.name}" verifies, want "${want}"`);
      } catch (e) {
        t.ok(e.message === want, `absence "${c.name}": "${e.message}", want "${want}"`);
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
  // runControlVectors checks testdata/control/vectors.json: proofs of
  // control over every script type, with proofs/control's verdict on each
  // input, or its sentence for a proof that proves nothing.
  async function runControlVectors(v, t) {
    for (const c of v.cases) {
      const what = `control "${c.name}"`;
      let tx;
      try {
        tx = decodeProofTx(c.tx);
      } catch (e) {
        if (e.exact === undefined) throw e;
        t.ok(!!c.error && (!e.exact || e.message === c.error), `${what}: "${e.message}", want "${c.error}"`);
        continue;
      }
      const prevouts = c.prevouts.map((p) => ({ value: BigInt(p.value), script: fromHex(p.script) }));
      const r = await verifyControl(c.challenge, tx, prevouts);
      if (c.error) {
        t.ok(r.error === c.error, `${what}: ${r.error ? `"${r.error}"` : "no error"}, want "${c.error}"`);
        continue;
      }
      if (r.error || r.inputs.length !== c.inputs.length) {
        t.ok(false, `${what}: ${r.error || r.inputs.length + " inputs"}, want ${c.inputs.length} inputs`);
        continue;
      }
      c.inputs.forEach((want, i) => {
        const got = r.inputs[i];
        const result = want.browser_unchecked ? UNCHECKED : want.result;
        t.ok(got.outpoint === want.outpoint && got.result === result, `${what}: input ${i + 1} spends ${got.outpoint}: ${got.result}, want ${want.outpoint}: ${result}`);
      });
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
    // Version 2 trees (docs/proofs.md 3.15): what a holder needs
    // (commitment2, leafHash2, splitShares, the decoders, verifyShares) and
    // what needs the seed (treeID, the shuffle keys, shuffle), for vectors.
    sumtree2: {
      PROOF_VERSION: SHARE_PROOF_VERSION,
      TAG: TAG2,
      treeID,
      commitment2,
      leafHash2,
      splitShares,
      shuffleKey,
      windowKey,
      ChaCha8Rand,
      shuffle,
      shareLeaves,
      decodeProofBinary: decodeShareProofBinary,
      decodeProofJSON: decodeShareProofJSON,
      verifyShares,
    },
    strict: { strictRead, PROOF_SCHEMA, SHARE_PROOF_SCHEMA, BUNDLE_SCHEMA, BUNDLE_SCHEMA_2, SCHEMA },
    anchor: { anchorCommitment, anchorScript, runVectors: runAnchorVectors },
    attest: { runVectors, verifyChain, checkShape, nodeMessage, computeTotals, computeCoverage, attestationID, parseAttestation, verifyAttestation, parseBundle, verifyBundle, parseAbsence, verifyAbsence, uncountedReason },
    policy: { DEFAULT: POLICY_DEFAULT, checkPolicy, parseRatio, formatRatio, formatAge, runVectors: runPolicyVectors },
    control: { ripemd160, hash160, decodeProofTx, verifyControl, outpointString, runVectors: runControlVectors, PROVEN, BAD_SCRIPT, NO_COMMIT, UNCHECKED },
  };
})(globalThis);
