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
  // ratio formats basis points as x.xx, rounded down.
  function ratio(bps) {
    const s = (BigInt(bps) / 100n).toString().padStart(3, "0");
    return s.slice(0, -2) + "." + s.slice(-2);
  }
  function units(v, decimals) {
    let s = BigInt(v).toString();
    if (decimals <= 0) return s;
    s = s.padStart(decimals + 1, "0");
    return s.slice(0, -decimals) + "." + s.slice(-decimals);
  }

  let verified = null; // the result of verifyAttestation, once checked

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
    try {
      verified = await verifyLatest();
      show(vres, "ok", `Signature valid, sums add up, coverage ${ratio(verified.bps)}` +
        (verified.backed ? " — backed: at or above the policy minimum." : " — below the policy minimum.") +
        (verified.stale ? " The attested reserves were stale." : ""));
    } catch (e) {
      verified = null;
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
      show(bres, "ok", `Included: account ${r.account} holds ${units(r.balance, r.decimals)} ${r.asset} in attestation #${verified.seq}, and the proof adds up to the attested total.`);
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
