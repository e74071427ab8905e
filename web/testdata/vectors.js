// Runs the repository's shared test vectors against web/static/verify.js.
// Loaded by web/testdata/vectors.html, which the Go test TestJSVectors
// serves (with the repository's testdata/ under /testdata/) and opens in
// headless Chromium. The result lands in globalThis.__koshVectors:
// {done, suites: {name: {passed, failed}}, failures: [..]}.
"use strict";
(function (global) {
  const K = global.KoshVerify;
  const U = K.util;
  const out = { done: false, suites: {}, failures: [], error: "" };
  global.__koshVectors = out;

  const load = global.__koshLoad || (async (path) => {
    const r = await fetch(path);
    if (!r.ok) throw new Error(`GET ${path}: ${r.status}`);
    return r;
  });
  async function text(path) {
    return (await load(path)).text();
  }
  async function bytes(path) {
    return new Uint8Array(await (await load(path)).arrayBuffer());
  }
  async function json(path) {
    return JSON.parse(await text(path));
  }

  function suite(name) {
    const s = (out.suites[name] = { passed: 0, failed: 0 });
    return {
      ok(cond, what) {
        if (cond) s.passed++;
        else {
          s.failed++;
          out.failures.push(`${name}: ${what}`);
        }
      },
    };
  }
  async function throwsWith(fn, msg) {
    try {
      await fn();
    } catch (e) {
      return e.message === msg ? "" : `threw "${e.message}", want "${msg}"`;
    }
    return `did not throw, want "${msg}"`;
  }

  // ------------------------------------------------------------ BIP-340
  async function bip340() {
    const t = suite("bip340");
    const lines = (await text("/testdata/bip340/test-vectors.csv")).trim().split(/\r?\n/).slice(1);
    for (const line of lines) {
      const [index, , pk, , msg, sig, result, comment] = line.split(",");
      const want = result === "TRUE";
      let got;
      try {
        got = await K.schnorrVerify(U.fromHex(pk), U.fromHex(msg), U.fromHex(sig));
      } catch (e) {
        got = false;
      }
      t.ok(got === want, `vector ${index} (${comment || "no comment"}): got ${got}, want ${want}`);
    }
    // Kosh's own issuer signatures (testdata/sig/vectors.json).
    const v = await json("/testdata/sig/vectors.json");
    for (const c of v.issuer) {
      const canon = K.jcs.canonicalize(c.document);
      t.ok(canon === c.canonical, `sig ${c.name}: canonical form differs`);
      const digest = await K.taggedHash(c.tag, U.utf8(canon));
      t.ok(U.toHex(digest) === c.digest, `sig ${c.name}: digest ${U.toHex(digest)}, want ${c.digest}`);
      const ok = await K.schnorrVerify(U.fromHex(c.public_key), digest, U.fromHex(c.signature));
      t.ok(ok, `sig ${c.name}: signature does not verify`);
    }
    for (const c of v.issuer_invalid) {
      let ok;
      try {
        ok = await K.schnorrVerify(U.fromHex(c.public_key), U.fromHex(c.digest), U.fromHex(c.signature));
      } catch (e) {
        ok = false;
      }
      t.ok(!ok, `sig invalid ${c.name}: verifies but must not`);
    }
    // Lightning node signatures (lnd SignMessage, recoverable ECDSA).
    for (const c of v.node) {
      const digest = await K.node.nodeMessageDigest(U.utf8(c.message));
      t.ok(U.toHex(digest) === c.digest, `node ${c.name}: digest differs`);
      let err = "";
      try {
        await K.node.verifyNodeMessage(U.utf8(c.message), c.signature_zbase32, c.node_key);
      } catch (e) {
        err = e.message;
      }
      if (c.valid === true) t.ok(err === "", `node ${c.name}: ${err}`);
      else t.ok(err !== "" && err === c.error, `node ${c.name}: error "${err}", want "${c.error}"`);
    }
  }

  // ---------------------------------------------------------------- JCS
  async function jcs() {
    const t = suite("jcs");
    const names = ["arrays", "french", "rfc8785-example", "rfc8785-sorting", "simpleString", "structures", "unicode", "values", "weird"];
    for (const n of names) {
      const input = await text(`/testdata/jcs/input/${n}.json`);
      const want = await bytes(`/testdata/jcs/output/${n}.json`);
      const got = U.utf8(K.jcs.canonicalize(input));
      t.ok(U.equalBytes(got, want), `${n}: canonical bytes differ`);
      t.ok(K.jcs.isCanonical(want), `${n}: output not recognised as canonical`);
      t.ok(!K.jcs.isCanonical(U.utf8(input)), `${n}: input wrongly recognised as canonical`);
    }
    for (const f of ["numbers.txt", "es6numbers.txt"]) {
      const lines = (await text(`/testdata/jcs/${f}`)).split(/\r?\n/);
      for (const line of lines) {
        if (!line || line.startsWith("#")) continue;
        const [hex, want] = line.split(" ");
        const dv = new DataView(U.fromHex(hex).buffer);
        const x = dv.getFloat64(0, false);
        let got;
        try {
          got = K.jcs.serialize(x, 0);
        } catch (e) {
          got = "error";
        }
        t.ok(got === want, `${f} ${hex}: got ${got}, want ${want}`);
      }
    }
    // Rejections the Go side pins (docs/proofs-signatures.md §1).
    const bad = ['{"a":1,"a":2}', '{"a":"\\ud800"}', "\ufeff{}", "[1,]", '{ "a":1}', '{"b":1,"a":2}', "1.0", "[01]"];
    for (const b of bad) t.ok(!K.jcs.isCanonical(U.utf8(b)), `${JSON.stringify(b)} wrongly canonical`);
    t.ok(!K.jcs.isCanonical(Uint8Array.of(0x22, 0xff, 0x22)), "invalid UTF-8 wrongly canonical");
  }

  // ------------------------------------------------------------ sumtree
  async function sumtree() {
    const t = suite("sumtree");
    const S = K.sumtree;
    const v = await json("/testdata/sumtree/vectors.json");
    t.ok(v.max_sum === S.MAX_SUM.toString(), "max_sum differs");
    for (const tag of v.tags) {
      const h = await K.sha256(U.utf8(tag.tag));
      t.ok(U.toHex(h) === tag.prefix_sha256, `tag ${tag.tag} prefix differs`);
    }
    for (const c of v.cases) {
      const seed = U.fromHex(c.seed);
      // The leaf order (docs/proofs.md 3.8): ChaCha8Rand, Lemire, Fisher–Yates.
      const key = await K.sumtree2.shuffleKey(seed, c.asset_code);
      t.ok(U.toHex(key) === c.shuffle_key, `${c.name}: shuffle key`);
      const order = K.sumtree2.shuffle(key, c.accounts.length);
      t.ok(JSON.stringify(order) === JSON.stringify(c.leaf_order), `${c.name}: leaf order ${order}, want ${c.leaf_order}`);
      for (const leaf of c.leaves) {
        const acct = c.accounts[leaf.account_index];
        const salt = await S.deriveSalt(seed, c.asset_code, acct.id);
        t.ok(U.toHex(salt) === leaf.salt, `${c.name}: salt of leaf ${leaf.position}`);
        const com = await S.commitment(salt, acct.id);
        t.ok(U.toHex(com) === leaf.commitment, `${c.name}: commitment of leaf ${leaf.position}`);
        const lh = await S.leafHash(com, BigInt(acct.balance));
        t.ok(U.toHex(lh) === leaf.leaf_hash, `${c.name}: hash of leaf ${leaf.position}`);
      }
      for (const pad of c.pads) {
        const h = await S.padHash(seed, c.asset_code, pad.level, BigInt(pad.index));
        t.ok(U.toHex(h) === pad.hash, `${c.name}: pad at level ${pad.level} index ${pad.index}`);
      }
      const root = { hash: c.root.hash, sum: BigInt(c.root.sum), height: c.root.height, count: BigInt(c.root.count) };
      for (const pr of c.proofs) {
        const acct = c.accounts[pr.account_index];
        const fromBin = S.decodeProofBinary(pr.binary);
        const fromJSON = S.decodeProofJSON(JSON.stringify(pr.json));
        t.ok(fromBin.leafIndex === fromJSON.leafIndex && fromBin.siblings.length === fromJSON.siblings.length, `${c.name}: binary and JSON proofs differ`);
        fromBin.siblings.forEach((s, l) => {
          t.ok(U.equalBytes(s.hash, fromJSON.siblings[l].hash) && s.sum === fromJSON.siblings[l].sum, `${c.name}: sibling ${l} differs`);
        });
        try {
          await S.verifyInclusion(root, acct.id, U.fromHex(pr.salt), BigInt(acct.balance), fromJSON);
          t.ok(true);
        } catch (e) {
          t.ok(false, `${c.name}: proof of account ${pr.account_index} fails: ${e.message}`);
        }
      }
    }
    for (const f of v.verify_failures) {
      const root = { hash: f.root.hash, sum: BigInt(f.root.sum), height: f.root.height, count: BigInt(f.root.count) };
      const msg = await throwsWith(async () => {
        const p = S.decodeProofBinary(f.proof);
        await S.verifyInclusion(root, f.account_id, U.fromHex(f.salt), BigInt(f.balance), p);
      }, f.error);
      t.ok(msg === "", `verify failure "${f.name}": ${msg}`);
    }
    for (const f of v.decode_failures) {
      const msg = await throwsWith(() => (f.binary !== undefined ? S.decodeProofBinary(f.binary) : S.decodeProofJSON(f.json)), f.error);
      t.ok(msg === "", `decode failure "${f.name}": ${msg}`);
    }
  }

  // ---------------------------------------------------- sumtree version 2
  // testdata/sumtree/vectors_v2.json (proofs/sumtree TestVectorsV2,
  // docs/proofs.md 3.15): the tags; per case the tree id, the account
  // shuffle (ChaCha8Rand), every salt, commitment and split, the window
  // keys and share shuffles, the whole leaf layout recomputed from those and
  // checked against the leaves table, every leaf hash, the root rebuilt
  // from the leaves with the padding of 3.7 (N = leaves), every proof in
  // both forms (equal, at the layout's positions, verifying); every
  // verification and decoding failure with Go's exact sentence.
  async function sumtree2() {
    const t = suite("sumtree2");
    const S = K.sumtree;
    const S2 = K.sumtree2;
    const v = await json("/testdata/sumtree/vectors_v2.json");
    const used = new Set([...Object.values(S2.TAG), S.TAG.salt, S.TAG.node, S.TAG.pad]);
    for (const tag of v.tags) {
      const h = await K.sha256(U.utf8(tag.tag));
      t.ok(U.toHex(h) === tag.prefix_sha256, `tag ${tag.tag} prefix differs`);
      t.ok(used.has(tag.tag), `tag ${tag.tag} is not one verify.js uses`);
    }
    t.ok(v.tags.length === used.size, `${v.tags.length} tags, verify.js uses ${used.size}`);
    const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
    const sameProof = (a, b) =>
      a.height === b.height &&
      same(a.shares.map((s) => [s.position, String(s.amount)]), b.shares.map((s) => [s.position, String(s.amount)])) &&
      same(a.siblings.map((s) => [U.toHex(s.hash), String(s.sum)]), b.siblings.map((s) => [U.toHex(s.hash), String(s.sum)]));
    const rootOf = (r) => ({ hash: r.hash, sum: BigInt(r.sum), height: r.height, count: BigInt(r.accounts), shares: r.shares, window: r.window, treeID: r.tree_id });
    for (const c of v.cases) {
      const seed = U.fromHex(c.seed);
      const asset = c.asset_code;
      const n = c.holdings.length;
      const { shares: k, window: w, height: H } = c.root;
      const tid = await S2.treeID(seed, asset);
      t.ok(U.toHex(tid) === c.root.tree_id, `${c.name}: tree id`);
      t.ok(c.root.accounts === n, `${c.name}: root counts ${c.root.accounts} accounts of ${n}`);
      const skey = await S2.shuffleKey(seed, asset);
      t.ok(U.toHex(skey) === c.shuffle_key, `${c.name}: shuffle key`);
      const order = S2.shuffle(skey, n);
      t.ok(same(order, c.account_order), `${c.name}: account order ${order}, want ${c.account_order}`);
      // Accounts: salt, commitment, split.
      const salts = [], commits = [], shares = [];
      t.ok(c.accounts.length === n, `${c.name}: ${c.accounts.length} accounts listed`);
      for (let i = 0; i < n; i++) {
        const h = c.holdings[i], a = c.accounts[i];
        t.ok(a.holding === i, `${c.name}: account entry ${i} is of holding ${a.holding}`);
        salts[i] = await S.deriveSalt(seed, asset, h.id);
        t.ok(U.toHex(salts[i]) === a.salt, `${c.name}: salt of holding ${i}`);
        commits[i] = await S2.commitment2(tid, salts[i], asset, BigInt(h.seq), h.id);
        t.ok(U.toHex(commits[i]) === a.commitment, `${c.name}: commitment of holding ${i}`);
        shares[i] = await S2.splitShares(salts[i], BigInt(h.balance), k);
        t.ok(same(shares[i].map(String), a.shares), `${c.name}: shares of holding ${i}: ${shares[i]}, want ${a.shares}`);
        t.ok(shares[i].reduce((x, y) => x + y, 0n) === BigInt(h.balance), `${c.name}: shares of holding ${i} do not add up`);
      }
      // Layout (3.15.5): windows of W = 2^w positions, A = W/k accounts.
      const W = 2 ** w, A = W / k;
      const windows = n === 0 ? 0 : Math.ceil(n / A);
      t.ok(c.windows.length === windows, `${c.name}: ${c.windows.length} windows, want ${windows}`);
      const layout = [];
      for (let g = 0; g < windows; g++) {
        const m = Math.min(A, n - g * A);
        const wk = await S2.windowKey(seed, asset, g);
        const cw = c.windows[g] || {};
        t.ok(cw.index === g && cw.key === U.toHex(wk), `${c.name}: key of window ${g}`);
        const perm = S2.shuffle(wk, k * m);
        t.ok(same(perm, cw.perm), `${c.name}: perm of window ${g}`);
        perm.forEach((slot, q) => {
          const holding = order[g * A + Math.floor(slot / k)];
          const share = slot % k;
          layout.push({ position: g * W + q, holding, share, amount: shares[holding][share] });
        });
      }
      const N = n * k;
      t.ok(layout.length === N && c.leaves.length === N, `${c.name}: ${layout.length} and ${c.leaves.length} leaves, want ${N}`);
      // Leaves: the table's layout and every hash.
      let level = [];
      for (let p = 0; p < N; p++) {
        const e = layout[p], L = c.leaves[p] || {};
        t.ok(e.position === p && L.position === p && L.holding === e.holding && L.share === e.share && L.amount === String(e.amount),
          `${c.name}: leaf ${p} is ${JSON.stringify(L)}, the layout gives holding ${e.holding} share ${e.share} at ${e.position}`);
        const lh = await S2.leafHash2(commits[e.holding], k, e.share, e.amount);
        t.ok(U.toHex(lh) === L.leaf_hash, `${c.name}: hash of leaf ${p}`);
        level.push({ hash: lh, sum: e.amount });
      }
      // Root (3.7 with N leaves): T(l, i) is a pad when i·2^l ≥ N.
      let root;
      if (N === 0) root = { hash: await S.padHash(seed, asset, H, 0n), sum: 0n };
      else {
        for (let l = 0; l < H; l++) {
          const next = [];
          for (let j = 0; 2 * j < level.length; j++) {
            const left = level[2 * j];
            const right = 2 * j + 1 < level.length ? level[2 * j + 1] : { hash: await S.padHash(seed, asset, l, BigInt(2 * j + 1)), sum: 0n };
            next.push({ hash: await S.nodeHash(left.hash, left.sum, right.hash, right.sum), sum: left.sum + right.sum });
          }
          level = next;
        }
        root = level[0];
      }
      t.ok(level.length === 1 || N === 0, `${c.name}: ${level.length} nodes at the top`);
      t.ok(U.toHex(root.hash) === c.root.hash && String(root.sum) === c.root.sum, `${c.name}: root recomputed from the leaves differs`);
      // Proofs: both forms equal, at the layout's positions, verifying.
      const r = rootOf(c.root);
      for (const pr of c.proofs) {
        const h = c.holdings[pr.holding];
        const fromJSON = S2.decodeProofJSON(JSON.stringify(pr.json));
        const fromBin = S2.decodeProofBinary(pr.binary);
        t.ok(sameProof(fromJSON, fromBin), `${c.name}: binary and JSON proofs of holding ${pr.holding} differ`);
        t.ok(pr.salt === U.toHex(salts[pr.holding]), `${c.name}: salt of the proof of holding ${pr.holding}`);
        const at = layout.filter((e) => e.holding === pr.holding).sort((a, b) => a.share - b.share).map((e) => e.position);
        t.ok(same(fromJSON.shares.map((s) => s.position), at), `${c.name}: proof of holding ${pr.holding} at ${fromJSON.shares.map((s) => s.position)}, the layout has ${at}`);
        if (k === 2) t.ok(fromJSON.siblings.length <= H + w - 2, `${c.name}: proof of holding ${pr.holding} has ${fromJSON.siblings.length} siblings, above H + w − 2`);
        for (const [form, p] of [["JSON", fromJSON], ["binary", fromBin]]) {
          try {
            await S2.verifyShares(r, asset, h.id, BigInt(h.seq), U.fromHex(pr.salt), BigInt(h.balance), p);
            t.ok(true);
          } catch (e) {
            t.ok(false, `${c.name}: ${form} proof of holding ${pr.holding} fails: ${e.message}`);
          }
        }
      }
    }
    for (const f of v.verify_failures) {
      const msg = await throwsWith(async () => {
        const p = S2.decodeProofJSON(JSON.stringify(f.proof));
        await S2.verifyShares(rootOf(f.root), f.asset_code, f.account_id, BigInt(f.seq), U.fromHex(f.salt), BigInt(f.balance), p);
      }, f.error);
      t.ok(msg === "", `verify failure "${f.name}": ${msg}`);
    }
    for (const f of v.decode_failures) {
      const msg = await throwsWith(() => (f.binary !== undefined ? S2.decodeProofBinary(f.binary) : S2.decodeProofJSON(f.json)), f.error);
      t.ok(msg === "", `decode failure "${f.name}": ${msg}`);
    }
    t.ok(v.verify_failures.length >= 22 && v.decode_failures.length >= 16, "failure vectors missing");
  }

  // -------------------------------------------------------- attestations
  // Runs only when the repository has testdata/attest/vectors.json.
  async function attest() {
    if (!K.attest) return;
    let v;
    try {
      v = await json("/testdata/attest/vectors.json");
    } catch (e) {
      return;
    }
    const t = suite("attest");
    await K.attest.runVectors(v, t);
  }

  // --------------------------------------------------- proofs of control
  // testdata/control/vectors.json: every script type the page checks, and
  // the verdicts of proofs/control on tampered proofs.
  async function control() {
    if (!K.control) return;
    const t = suite("control");
    await K.control.runVectors(await json("/testdata/control/vectors.json"), t);
  }

  // ------------------------------------------------- strict decoding
  // testdata/strict/documents.json (proofs/attest TestStrictVectors): each
  // proof, bundle and attestation must get exactly Go's verdict, "" (it
  // verifies) or the same sentence. Receipts are koshverify's business:
  // the page does not read them.
  async function strict() {
    if (!K.attest) return;
    const t = suite("strict");
    const v = await json("/testdata/strict/documents.json");
    const att = await K.attest.verifyAttestation(U.utf8(v.attestation));
    const run = {
      proof: async (d) => K.sumtree.decodeProofJSON(d),
      bundle: async (d) => K.attest.verifyBundle(att, d),
      attestation: async (d) => K.attest.verifyAttestation(U.utf8(d)),
    };
    // The browser's schemas are Go's shapes (STR, AMT and BIG are strings).
    const norm = (sc) => {
      if (Array.isArray(sc)) return [norm(sc[0])];
      if (typeof sc === "object") {
        const o = {};
        for (const k of Object.keys(sc).sort()) o[k] = norm(sc[k]);
        return o;
      }
      return { int: "int", bool: "bool" }[sc] || "string";
    };
    const S = K.strict;
    for (const [name, mine] of [["proof", S.PROOF_SCHEMA], ["bundle", S.BUNDLE_SCHEMA], ["attestation", S.SCHEMA]]) {
      t.ok(JSON.stringify(norm(mine)) === JSON.stringify(norm(v.shapes[name])), `the browser's ${name} schema differs from Go's shape`);
    }
    // Go exports no version 2 bundle shape; it is the version 1 bundle's
    // with seq and the share-set proof an issuer account carries in
    // version 3 (proofs/attest bundleShape2).
    const ia = (v.shapes.attestation["?issuer_accounts"] || [{}])[0];
    const shareProof = ia["?share_proof"];
    t.ok(shareProof !== undefined && JSON.stringify(norm(S.SHARE_PROOF_SCHEMA)) === JSON.stringify(norm(shareProof)), "the browser's share-set proof schema differs from Go's shape");
    const bundle2 = Object.assign({}, v.shapes.bundle, { seq: "int", proof: shareProof });
    t.ok(JSON.stringify(norm(S.BUNDLE_SCHEMA_2)) === JSON.stringify(norm(bundle2)), "the browser's version 2 bundle schema differs from Go's shape");
    let receipts = 0;
    for (const d of v.documents) {
      if (d.kind === "receipt") {
        receipts++;
        continue;
      }
      let got = "";
      try {
        await run[d.kind](d.document);
      } catch (e) {
        got = e.message;
      }
      t.ok(got === d.error, `${d.kind} "${d.name}": ${got ? `"${got}"` : "verifies"}, want ${d.error ? `"${d.error}"` : "it to verify"}`);
    }
    t.ok(receipts > 0 && receipts < v.documents.length, `${receipts} receipts of ${v.documents.length} documents`);
  }

  // ------------------------------------------------ the holder's policy
  // testdata/policy/vectors.json (proofs/attest TestPolicyVectors): each
  // document judged by the case's policy gives exactly Go's failures,
  // warnings, declarations, coverage and summary.
  async function policy() {
    if (!K.policy) return;
    const t = suite("policy");
    await K.policy.runVectors(await json("/testdata/policy/vectors.json"), t);
  }

  // ----------------------------------------------- hand-derived vectors
  // testdata/attest/handmade/attestations.json (derive.py, not written by
  // Go): the valid document's id, node message and every derived figure;
  // each broken one must fail with the class of the rule it breaks (the
  // browser stops at the first failure, which must be of that class).
  async function handmade() {
    if (!K.attest) return;
    const t = suite("handmade");
    const v = await json("/testdata/attest/handmade/attestations.json");
    const kinds = { malformed: "malformed", not_canonical: "canonical", signature: "signature", sum: "sum", coverage: "coverage" };
    for (const c of v.cases) {
      let r;
      try {
        r = await K.attest.verifyAttestation(U.utf8(c.document));
      } catch (e) {
        t.ok(c.verdict !== "valid" && e.kind === kinds[c.verdict], `"${c.name}": ${e.kind}: ${e.message}; hand-derived: ${c.verdict}`);
        continue;
      }
      if (c.verdict !== "valid") {
        t.ok(false, `"${c.name}" verifies; hand-derived: ${c.verdict}`);
        continue;
      }
      t.ok(r.id === c.id, `"${c.name}": id ${r.id}, hand-derived ${c.id}`);
      const nm = new TextDecoder().decode(await K.attest.nodeMessage(r.doc));
      t.ok(nm === c.node_message, `"${c.name}": node message ${nm}`);
      const f = c.figures, w = r.totals;
      const pairs = [
        [w.onchain.listed, f.totals.onchain.listed], [w.onchain.eligible, f.totals.onchain.eligible], [w.onchain.counted, f.totals.onchain.counted],
        [w.lightning.capacity, f.totals.lightning.capacity], [w.lightning.local_balance, f.totals.lightning.local_balance],
        [w.lightning.eligible, f.totals.lightning.eligible], [w.lightning.counted, f.totals.lightning.counted], [w.counted, f.totals.counted],
        [r.required, f.coverage.required], [r.backing, f.coverage.backing], [r.bps, f.coverage.bps],
      ];
      pairs.forEach(([got, want], i) => t.ok(String(got) === want, `"${c.name}": figure ${i} is ${got}, hand-derived ${want}`));
      t.ok(r.backed === f.coverage.backed, `"${c.name}": backed ${r.backed}`);
    }
  }

  // ------------------------------------------------- bitcoin anchors
  // testdata/anchor/vectors.json (proofs/anchor TestAnchorVectors).
  async function anchor() {
    const t = suite("anchor");
    await K.anchor.runVectors(await json("/testdata/anchor/vectors.json"), t);
  }

  async function main() {
    try {
      await bip340();
      await jcs();
      await sumtree();
      await sumtree2();
      await control();
      if (global.__koshAttestVectors) await global.__koshAttestVectors(json, suite);
      else await attest();
      await handmade();
      await strict();
      await anchor();
      await policy();
    } catch (e) {
      out.error = String(e && e.stack ? e.stack : e);
    }
    out.done = true;
    if (global.document) {
      const pre = global.document.getElementById("result");
      if (pre) pre.textContent = JSON.stringify(out, null, 1);
    }
  }
  global.__koshVectorsRun = main();
})(globalThis);
