// Wires the page's buttons to verify.js. Loaded with defer after verify.js.
"use strict";
(function () {
  const K = globalThis.KoshVerify;
  const latest = document.getElementById("latest");
  const vbtn = document.getElementById("verify-btn");
  const vres = document.getElementById("verify-result");
  const bbtn = document.getElementById("bundle-btn");
  const bres = document.getElementById("bundle-result");
  const area = document.getElementById("bundle");
  const vdetail = document.getElementById("verify-detail");
  const minInput = document.getElementById("min-coverage");
  const pres = document.getElementById("policy-result");
  const pdetail = document.getElementById("policy-detail");
  const pnote = document.getElementById("policy-note");
  if (!latest || !K) return;

  function show(el, cls, msg) {
    el.className = "result " + cls;
    el.textContent = msg;
  }
  function sentence(e) {
    let m = e && e.message ? e.message : String(e);
    if (!/[.!?]$/.test(m)) m += ".";
    return m.charAt(0).toUpperCase() + m.slice(1);
  }
  function units(v, decimals) {
    let s = BigInt(v).toString();
    if (decimals <= 0) return s;
    s = s.padStart(decimals + 1, "0");
    return s.slice(0, -decimals) + "." + s.slice(-decimals);
  }

  function btc(sats) {
    return units(sats, 8) + " BTC";
  }
  const MAX_LISTED = 20;
  // el makes an element with text (never HTML: every string here comes
  // from the document).
  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }
  // para appends a paragraph with a list of items (at most MAX_LISTED,
  // then "and N more").
  function para(parent, text, items) {
    const p = el("p", text);
    if (items && items.length) {
      const ul = el("ul", undefined, "plain");
      for (const it of items.slice(0, MAX_LISTED)) ul.appendChild(el("li", it));
      if (items.length > MAX_LISTED) ul.appendChild(el("li", `and ${items.length - MAX_LISTED} more`));
      p.appendChild(ul);
    }
    parent.appendChild(p);
  }
  const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;
  // describe shows, beside the verdict, what it covers: which outputs count
  // and why the others do not, which channels are claims, and what only
  // koshverify with the reader's own nodes can check.
  function describe(r) {
    vdetail.replaceChildren();
    const res = r.reserves;
    if (r.version >= 2) {
      const on = res.onchain;
      const unchecked = new Set(r.unchecked.map((u) => u.outpoint));
      const here = on.counted.filter((u) => !unchecked.has(u.outpoint)).length;
      const sum = on.counted.reduce((a, u) => a + u.value, 0n);
      para(vdetail, `On-chain: ${on.counted.length} of ${plural(on.counted.length + on.uncounted.length, "listed output", "listed outputs")} proven and counted (${btc(sum)})` +
        (here === on.counted.length ? ", each by a proof of control verified in this browser." : `; ${here} of their proofs verified in this browser.`) +
        (on.uncounted.length ? " Listed, not counted:" : ""),
        on.uncounted.map((u) => `${u.outpoint} (${btc(u.value)}): ${u.reason}`));
      const ln = res.lightning;
      if (ln.announced.length || ln.claimed.length) {
        para(vdetail, `Lightning: ${plural(ln.announced.length, "announced channel", "announced channels")}` +
          (ln.claimed.length ? `; ${plural(ln.claimed.length, "claimed channel", "claimed channels")}, shown apart: the node's word, which nobody can check` +
            (ln.claimedCounts ? ", counted under the claimed-channel rule:" : ", not counted:") : "."),
          ln.claimed.map((c) => `${c.channel_point} (${c.node}): claims ${btc(c.counted)}`));
      }
    }
    if (r.issuerAccounts && r.issuerAccounts.length) {
      const dec = new Map(r.doc.assets.map((as) => [as.code, as.decimals]));
      para(vdetail, `Held by the issuer itself (no holder checks these, so they are published): ${plural(r.issuerAccounts.length, "balance", "balances")}, ` +
        "each proven in this browser to be counted in its asset's liabilities:",
        r.issuerAccounts.map((ia) => `${ia.name}: ${units(ia.balance, dec.get(ia.asset))} ${ia.asset} (account ${ia.account})`));
    }
    const todo = [`With your own bitcoin node: that each listed output is on the chain, unspent at block ${r.doc.block.height}, with the listed value` +
      (r.version >= 2 ? " and script, and that each proof's block is in the best chain." : "."),
    `With your own bitcoin node: that block ${r.doc.block.height} is at most ${P.DEFAULT.maxBehind} blocks behind your node's tip, and how much of the listed reserves has moved since.`];
    if (r.anchorCommitment) {
      const a = r.doc.anchor;
      const shown = document.getElementById("anchor-commitment");
      const same = shown && shown.textContent.trim() === r.anchorCommitment;
      para(vdetail, `Bitcoin anchor: transaction ${a.txid} in block ${a.height} commits to attestation #${a.seq} (id ${a.id}); ` +
        `its commitment, recomputed in this browser from the issuer key, #${a.seq} and that id, is ${r.anchorCommitment}` +
        (same ? ", as the page shows." : shown ? `, NOT the ${shown.textContent.trim()} the page shows.` : "."));
      todo.push(`With your own bitcoin node (koshverify --btcd): that transaction ${a.txid} is in block ${a.height} with that commitment, that the anchors before and after it form one chain, and that each commits to this history.`);
    } else if (r.version >= 2) {
      todo.push("Nothing anchors this attestation in bitcoin: it cannot be told apart from a forked or restarted history.");
    }
    const announced = r.version >= 2 ? res.lightning.announced.length : 0;
    if (announced) todo.push(`With your own lnd (koshverify --lnd): that the ${plural(announced, "announced channel is", "announced channels are")} in the Lightning graph with the issuer's node at one end.`);
    for (const u of r.unchecked) todo.push(`${u.outpoint} (proof ${u.proof}): ${u.why}.`);
    para(vdetail, "Still to check with koshverify (below):", todo);
    vdetail.hidden = false;
  }

  let verified = null; // the result of verifyAttestation, once checked

  // judge shows the holder's verdict on the verified document, by the
  // page's defaults and the minimum coverage typed (verify.js
  // checkPolicy), apart from what the issuer declares of itself.
  const P = K.policy;
  minInput.value = P.formatRatio(BigInt(P.DEFAULT.minCoverageBps));
  pnote.textContent = `Prices must show their sources and be at most ${P.formatAge(P.DEFAULT.maxPriceAgeSeconds)} older than the attestation.`;
  function judge() {
    pdetail.replaceChildren();
    pdetail.hidden = true;
    if (!verified) {
      pres.hidden = true;
      return;
    }
    pres.hidden = false;
    let min;
    try {
      min = P.parseRatio(minInput.value.trim());
    } catch (e) {
      show(pres, "bad", "Your minimum coverage " + sentence(e));
      return;
    }
    const v = P.checkPolicy(verified.doc, { minCoverageBps: min, maxPriceAgeSeconds: P.DEFAULT.maxPriceAgeSeconds });
    if (v.failures.length) show(pres, "bad", "By your standard this attestation fails: " + v.failures.map(sentence).join(" "));
    else show(pres, "ok", "By your standard it holds: " + sentence(v.summary));
    for (const w of v.warnings) pdetail.appendChild(el("p", "Warning: " + sentence(w), "warn"));
    para(pdetail, "The issuer declares (its own word, not a verdict):", v.declarations.map(sentence));
    pdetail.hidden = false;
  }
  minInput.addEventListener("input", judge);

  async function fetchDocument() {
    const r = await fetch(latest.dataset.url, { cache: "no-store" });
    if (!r.ok) throw new Error(`the attestation document could not be downloaded (HTTP ${r.status})`);
    let bytes = new Uint8Array(await r.arrayBuffer());
    // The REST API (/v1/public/attestations/{id}) wraps the document.
    if (bytes[0] === 0x7b && !latest.dataset.url.endsWith(".json")) {
      try {
        const j = JSON.parse(K.util.decodeUTF8(bytes));
        if (j && j.attestation && typeof j.attestation.document === "string") bytes = K.util.utf8(j.attestation.document);
      } catch (e) {
        /* not a wrapper: verify the bytes as they are */
      }
    }
    return bytes;
  }

  async function verifyLatest() {
    const bytes = await fetchDocument();
    return K.attest.verifyAttestation(bytes, { id: latest.dataset.id, key: latest.dataset.key });
  }

  vbtn.addEventListener("click", async () => {
    vbtn.disabled = true;
    show(vres, "busy", "Checking…");
    vdetail.hidden = true;
    try {
      verified = await verifyLatest();
      const an = verified.doc.anchor;
      if (an) verified.anchorCommitment = await K.anchor.anchorCommitment(verified.doc.issuer_key, an.seq, an.id);
      const proofs = verified.version >= 2 ? (verified.unchecked.length ? ", proofs of control hold (some need koshverify)" : ", proofs of control hold") : "";
      show(vres, "ok", `Signature valid, sums add up${proofs}.`);
      judge();
      describe(verified);
    } catch (e) {
      verified = null;
      judge();
      show(vres, "bad", sentence(e));
    } finally {
      vbtn.disabled = false;
    }
  });

  bbtn.addEventListener("click", async () => {
    bbtn.disabled = true;
    show(bres, "busy", "Checking…");
    try {
      if (!verified) verified = await verifyLatest();
      const r = await K.attest.verifyBundle(verified, area.value.trim());
      // A version 2 bundle (attestation version 3) also proves the journal
      // entry the balance stands at: what a receipt of the holder's is
      // compared with (koshverify).
      const at = r.version === 2 ? ` as of its journal entry ${r.seq}` : "";
      show(bres, "ok", `Included: account ${r.account} holds ${units(r.balance, r.decimals)} ${r.asset}${at} in attestation #${verified.seq}, and the proof adds up to the attested total.`);
    } catch (e) {
      show(bres, "bad", sentence(e));
    } finally {
      bbtn.disabled = false;
    }
  });

  if (!globalThis.crypto || !globalThis.crypto.subtle) {
    show(vres, "bad", "This browser offers no WebCrypto on this connection (the page must be served over HTTPS), so it cannot check here. Use koshverify below.");
    return;
  }
  vbtn.disabled = false;
  bbtn.disabled = false;
})();
