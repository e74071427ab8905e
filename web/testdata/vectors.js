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
