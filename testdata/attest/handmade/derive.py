#!/usr/bin/env python3
"""Derive the hand-made attestation and receipt vectors from docs/proofs.md.

Nothing here imports or runs Kosh's code: the canonical JSON, tagged hashes,
BIP-340 signatures, lnd-style node signatures, receipt batches (RFC 9162) and
every derived figure of an attestation (docs/proofs.md 4.4) are written out
below in plain Python 3 (standard library only: hashlib, fractions, csv,
json). The expected verdict of each
broken document is the rule of docs/proofs.md it breaks on purpose, not what
the Go code answers.

    python3 testdata/attest/handmade/derive.py          # rewrite the two files
    python3 testdata/attest/handmade/derive.py --check  # fail if they differ

The Go test proofs/attest TestHandmade* reads the files and never writes
them; the -update flag of the vector tests does not touch this directory.
"""

import csv
import hashlib
import json
import os
import sys
from fractions import Fraction

HERE = os.path.dirname(os.path.abspath(__file__))

# ---------------------------------------------------------------------------
# secp256k1 and BIP-340, after the reference code in BIP-340 itself.

P = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
G = (0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
     0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8)


def point_add(p1, p2):
    if p1 is None:
        return p2
    if p2 is None:
        return p1
    if p1[0] == p2[0] and p1[1] != p2[1]:
        return None
    if p1 == p2:
        lam = (3 * p1[0] * p1[0] * pow(2 * p1[1], P - 2, P)) % P
    else:
        lam = ((p2[1] - p1[1]) * pow(p2[0] - p1[0], P - 2, P)) % P
    x3 = (lam * lam - p1[0] - p2[0]) % P
    return (x3, (lam * (p1[0] - x3) - p1[1]) % P)


def point_mul(pt, k):
    r = None
    for i in range(256):
        if (k >> i) & 1:
            r = point_add(r, pt)
        pt = point_add(pt, pt)
    return r


def b32(x):
    return x.to_bytes(32, "big")


def i32(b):
    return int.from_bytes(b, "big")


def lift_x(x):
    if x >= P:
        return None
    y_sq = (pow(x, 3, P) + 7) % P
    y = pow(y_sq, (P + 1) // 4, P)
    if pow(y, 2, P) != y_sq:
        return None
    return (x, y if y & 1 == 0 else P - y)


def tagged_hash(tag, msg):
    th = hashlib.sha256(tag.encode()).digest()
    return hashlib.sha256(th + th + msg).digest()


def xonly(seckey):
    return b32(point_mul(G, i32(seckey))[0])


def schnorr_sign(msg, seckey, aux):
    d0 = i32(seckey)
    assert 1 <= d0 <= N - 1
    pt = point_mul(G, d0)
    d = d0 if pt[1] % 2 == 0 else N - d0
    t = bytes(a ^ b for a, b in zip(b32(d), tagged_hash("BIP0340/aux", aux)))
    k0 = i32(tagged_hash("BIP0340/nonce", t + b32(pt[0]) + msg)) % N
    assert k0 != 0
    r = point_mul(G, k0)
    k = k0 if r[1] % 2 == 0 else N - k0
    e = i32(tagged_hash("BIP0340/challenge", b32(r[0]) + b32(pt[0]) + msg)) % N
    sig = b32(r[0]) + b32((k + e * d) % N)
    assert schnorr_verify(msg, b32(pt[0]), sig)
    return sig


def schnorr_verify(msg, pubkey, sig):
    pt = lift_x(i32(pubkey))
    r, s = i32(sig[:32]), i32(sig[32:])
    if pt is None or r >= P or s >= N:
        return False
    e = i32(tagged_hash("BIP0340/challenge", sig[:32] + pubkey + msg)) % N
    rr = point_add(point_mul(G, s), point_mul(pt, N - e))
    return rr is not None and rr[1] % 2 == 0 and rr[0] == r


def check_bip340():
    """The implementation above against the official vectors in testdata."""
    path = os.path.join(HERE, "..", "..", "bip340", "test-vectors.csv")
    with open(path) as f:
        for row in csv.DictReader(f):
            msg = bytes.fromhex(row["message"])
            pub = bytes.fromhex(row["public key"])
            sig = bytes.fromhex(row["signature"])
            want = row["verification result"] == "TRUE"
            if row["secret key"]:
                got = schnorr_sign(msg, bytes.fromhex(row["secret key"]), bytes.fromhex(row["aux_rand"]))
                assert got == sig, "BIP-340 vector %s: signature differs" % row["index"]
            try:
                ok = schnorr_verify(msg, pub, sig)
            except Exception:
                ok = False
            assert ok == want, "BIP-340 vector %s: verify %s" % (row["index"], ok)


# ---------------------------------------------------------------------------
# lnd SignMessage (docs/proofs-signatures.md section 3): compact recoverable
# ECDSA over SHA256(SHA256("Lightning Signed Message:" || message)), zbase32.

ZBASE32 = "ybndrfg8ejkmcpqxot1uwisza345h769"


def zbase32(data):
    bits = "".join(format(b, "08b") for b in data)
    bits += "0" * (-len(bits) % 5)
    return "".join(ZBASE32[int(bits[i:i + 5], 2)] for i in range(0, len(bits), 5))


def compressed(seckey):
    pt = point_mul(G, i32(seckey))
    return bytes([2 + (pt[1] & 1)]) + b32(pt[0])


def node_sign(message, seckey):
    z = i32(hashlib.sha256(hashlib.sha256(b"Lightning Signed Message:" + message).digest()).digest())
    d = i32(seckey)
    k = i32(hashlib.sha256(b"handmade ecdsa nonce" + seckey + message).digest()) % N
    r_pt = point_mul(G, k)
    r = r_pt[0] % N
    recid = (r_pt[1] & 1) | (2 if r_pt[0] >= N else 0)
    s = pow(k, N - 2, N) * (z + r * d) % N
    if s > N // 2:
        s, recid = N - s, recid ^ 1
    return zbase32(bytes([31 + recid]) + b32(r) + b32(s))


# ---------------------------------------------------------------------------
# RFC 8785 canonical JSON for what these documents hold: objects, arrays,
# strings, booleans and integers below 2^53.


def quote(s):
    out = ['"']
    for ch in s:
        c = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch in "\b\f\n\r\t":
            out.append({"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}[ch])
        elif c < 0x20:
            out.append("\\u%04x" % c)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def canon(v):
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        assert abs(v) < 2 ** 53
        return str(v)
    if isinstance(v, str):
        return quote(v)
    if isinstance(v, list):
        return "[" + ",".join(canon(x) for x in v) + "]"
    if isinstance(v, dict):
        keys = sorted(v, key=lambda k: k.encode("utf-16-be"))
        return "{" + ",".join(quote(k) + ":" + canon(v[k]) for k in keys) + "}"
    raise TypeError(v)


def cb(v):
    return canon(v).encode("utf-8")


def without(d, *keys):
    return {k: v for k, v in d.items() if k not in keys}


def key(label):
    return hashlib.sha256(label.encode()).digest()


ISSUER = key("kosh handmade vector: issuer")
OTHER = key("kosh handmade vector: someone else")
NODE_X = key("kosh handmade vector: node x")
NODE_Y = key("kosh handmade vector: node y")
AUX = bytes(32)

# ---------------------------------------------------------------------------
# Receipts (docs/proofs.md section 6).


def receipt_digest(doc):
    return tagged_hash("kosh/receipt", cb(without(doc, "signature", "batch")))


def mth(leaves):
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return tagged_hash("kosh/receipt-node", mth(leaves[:k]) + mth(leaves[k:]))


def audit_path(m, leaves):
    """RFC 9162 2.1.3.1, leaf level first."""
    if len(leaves) == 1:
        return []
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    if m < k:
        return audit_path(m, leaves[:k]) + [mth(leaves[k:])]
    return audit_path(m - k, leaves[k:]) + [mth(leaves[:k])]


def batch_root(leaf, index, size, path):
    """RFC 9162 2.1.3.2; None when the path does not fit index and size."""
    if index >= size:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn & 1 == 1 or fn == sn:
            r = tagged_hash("kosh/receipt-node", p + r)
            while fn & 1 == 0 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = tagged_hash("kosh/receipt-node", r + p)
        fn, sn = fn >> 1, sn >> 1
    return r if sn == 0 else None


def batch_digest(root, size):
    return tagged_hash("kosh/receipt-batch", size.to_bytes(4, "big") + root)


def receipt(account, balance, seq, time="2026-12-01T10:00:00Z", asset="SAT"):
    return {"version": 1, "asset": asset, "account": account, "balance": str(balance), "seq": str(seq),
            "time": time, "issuer_key": xonly(ISSUER).hex()}


def sign_v1(doc, seckey=ISSUER):
    doc = dict(doc, issuer_key=xonly(seckey).hex())
    doc["signature"] = schnorr_sign(receipt_digest(doc), seckey, AUX).hex()
    return doc


def sign_batch(docs):
    """Version 2: one signature over the batch of docs."""
    leaves = [receipt_digest(d) for d in docs]
    root = mth(leaves)
    sig = schnorr_sign(batch_digest(root, len(docs)), ISSUER, AUX).hex()
    out = []
    for i, d in enumerate(docs):
        d = dict(d, batch={"index": i, "size": len(docs), "path": [p.hex() for p in audit_path(i, leaves)]},
                 signature=sig)
        out.append(d)
    return out


def v2(account, balance, seq, nonce_byte, time="2026-12-01T10:00:00Z"):
    d = receipt(account, balance, seq, time)
    d["version"] = 2
    d["nonce"] = bytes([nonce_byte] * 16).hex()
    return d


def resign_batch_member(d):
    """Sign a single receipt as the batch it claims (to break one rule only)."""
    leaf = receipt_digest(d)
    b = d["batch"]
    root = batch_root(leaf, b["index"], b["size"], [bytes.fromhex(p) for p in b["path"]])
    assert root is not None
    return dict(d, signature=schnorr_sign(batch_digest(root, b["size"]), ISSUER, AUX).hex())


def signed_digest(d):
    leaf = receipt_digest(d)
    if d["version"] == 1:
        return leaf
    if d["version"] != 2 or "batch" not in d:
        return None
    b = d["batch"]
    root = batch_root(leaf, b["index"], b["size"], [bytes.fromhex(p) for p in b["path"]])
    return None if root is None else batch_digest(root, b["size"])


def receipt_cases():
    ours = xonly(ISSUER).hex()
    cases = []

    def add(name, doc, verdict, issuer=ours, text=None, why=""):
        c = {"name": name, "document": text if text is not None else canon(doc), "issuer": issuer,
             "verdict": verdict, "why": why}
        if text is None:
            c["receipt_digest"] = receipt_digest(doc).hex()
            sd = signed_digest(doc)
            c["signed_digest"] = sd.hex() if sd else ""
            # The verdict of a document whose fields are fine is decided
            # by the signature alone.
            if verdict in ("valid", "signature") and issuer in ("", doc["issuer_key"]):
                assert schnorr_verify(sd, bytes.fromhex(doc["issuer_key"]), bytes.fromhex(doc["signature"])) == \
                    (verdict == "valid"), name
        cases.append(c)

    r1 = sign_v1(receipt("acct-hand-1", 1234567, 17))
    add("version 1", r1, "valid", why="signature over TaggedHash(kosh/receipt, canonical bytes without signature)")
    esc = sign_v1(receipt('कोष "q" \\ \x01\t \u2028 <&>', 0, 0))
    add("version 1, account with quotes, backslash, control characters, U+2028 and Devanagari", esc, "valid",
        why="RFC 8785 escapes only \" \\ and controls (\\t short, others \\u00xx); the rest is literal UTF-8")
    add("version 1, balance raised after signing", dict(r1, balance="1234568"), "signature",
        why="the digest changes; the signature no longer covers it")
    add("version 1, seq lowered after signing", dict(r1, seq="16"), "signature", why="the digest changes")
    other = sign_v1(receipt("acct-hand-1", 1234567, 17), OTHER)
    add("version 1 by another key, checked against ours", other, "signature",
        why="6: issuer_key must equal the expected issuer")
    add("version 1 by another key, no expected issuer", other, "valid", issuer="",
        why="signed correctly by the key it names")
    add("version 1 with a time in another spelling", sign_v1(receipt("acct-hand-1", 5, 1, "2026-12-01T10:00:00+00:00")),
        "malformed", why="1: a time is YYYY-MM-DDTHH:MM:SSZ only")
    add("version 1 with February 30", sign_v1(receipt("acct-hand-1", 5, 1, "2026-02-30T10:00:00Z")),
        "malformed", why="1: a real date of the proleptic Gregorian calendar")
    add("version 3", sign_v1(dict(receipt("acct-hand-1", 5, 1), version=3)), "malformed", why="6: version is 1 or 2")
    add("version 1 with whitespace", None, "not_canonical", text=canon(r1).replace(',"asset"', ', "asset"'),
        why="4.1/6: published as its RFC 8785 bytes")
    swapped = canon(r1).replace('{"account":"acct-hand-1","asset":"SAT",', '{"asset":"SAT","account":"acct-hand-1",')
    assert swapped != canon(r1)
    add("version 1 with members out of order", None, "not_canonical", text=swapped, why="members sorted")

    batch = sign_batch([v2("acct-hand-%d" % i, 1000 * i, 100 + i, i) for i in range(5)])
    for i, d in enumerate(batch):
        add("version 2, receipt %d of a batch of 5" % i, d, "valid",
            why="RFC 9162 root of the five digests, signed with the size")
    claim6 = dict(batch[0], batch=dict(batch[0]["batch"], size=6))
    assert batch_root(receipt_digest(claim6), 0, 6, [bytes.fromhex(p) for p in claim6["batch"]["path"]]) == \
        mth([receipt_digest(d) for d in batch])
    add("version 2, first of five claiming a batch of 6", claim6, "signature",
        why="6.1: same root, but the signed digest binds the size")
    idx3 = dict(batch[4], batch=dict(batch[4]["batch"], index=3))
    assert signed_digest(idx3) is None
    add("version 2, last of five claiming index 3", idx3, "malformed",
        why="6.1: the path does not fit index 3 of 5 (RFC 9162 2.1.3.2 ends with sn != 0)")
    short = dict(batch[1], batch=dict(batch[1]["batch"], path=batch[1]["batch"]["path"][:-1]))
    assert signed_digest(short) is None
    add("version 2, path one entry short", short, "malformed", why="6.1: a path too short fails")
    flipped = list(batch[2]["batch"]["path"])
    flipped[0] = ("1" if flipped[0][0] == "0" else "0") + flipped[0][1:]
    add("version 2, a path entry changed", dict(batch[2], batch=dict(batch[2]["batch"], path=flipped)), "signature",
        why="another root")
    one = sign_batch([v2("acct-hand-solo", 42, 7, 0xab)])[0]
    assert one["batch"]["path"] == [] and signed_digest(one) == batch_digest(receipt_digest(one), 1)
    add("version 2, batch of one", one, "valid", why="6.1: path [] and root = the receipt digest")
    upper = resign_batch_member(dict(one, nonce=one["nonce"].upper()))
    add("version 2 with an upper-case nonce", upper, "malformed", why="6: nonce is 32 lower-case hex")
    add("version 2 with index equal to size", dict(one, batch={"index": 1, "size": 1, "path": []}), "malformed",
        why="6: 0 <= index < size")
    add("version 2 without a nonce", resign_batch_member(without(one, "nonce")), "malformed",
        why="6: nonce required in version 2")
    return cases


# ---------------------------------------------------------------------------
# Attestations (docs/proofs.md section 4).

MAX_SUM = 2 ** 63 - 1


def txid(label):
    return hashlib.sha256(label.encode()).hexdigest()


def ceil(fr):
    return -((-fr.numerator) // fr.denominator)


def floor(fr):
    return fr.numerator // fr.denominator


def attest_base():
    """Everything but the derived figures and signatures."""
    doc = attest_unsorted()
    doc["reserves"]["lightning"].sort(key=lambda n: n["pubkey"])
    return doc


def attest_unsorted():
    a, b, c = sorted([txid("handmade utxo a"), txid("handmade utxo b"), txid("handmade channels")])
    return {
        "version": 1, "seq": 1, "issuer_key": xonly(ISSUER).hex(), "time": "2026-12-01T00:00:00Z", "prev": "",
        "block": {"height": 900, "hash": txid("handmade block 900")},
        "journal_cutoff": "4242",
        "counting": {"min_confirmations": 6, "onchain": {"counts": True, "haircut_bps": 333},
                     "lightning": {"counts": True, "haircut_bps": 2500}},
        "reserves": {
            # Sorted by txid, then vout as a number: 2 before 10.
            "onchain": [
                {"outpoint": a + ":2", "value": "123456789", "confirmations": 6, "source": "chain",
                 "descriptor": "wpkh([deadbeef/84h/1h/0h]tpubhandmade/0/*)", "address": "bcrt1qhandmade"},
                {"outpoint": a + ":10", "value": "1000001", "confirmations": 5, "source": "chain"},
                {"outpoint": b + ":0", "value": "50000000", "confirmations": 901, "source": "x"},
            ],
            "lightning": [
                {"name": "x", "pubkey": compressed(NODE_X).hex(), "channels": [
                    {"channel_point": c + ":0", "capacity": "2000000", "confirmations": 10,
                     "local_balance": "1500000", "counted": "1490000"},
                    {"channel_point": c + ":1", "capacity": "500000", "confirmations": 3,
                     "local_balance": "100000", "counted": "0"},
                ]},
                {"name": "y", "pubkey": compressed(NODE_Y).hex(), "channels": [
                    {"channel_point": c + ":2", "capacity": "300000", "confirmations": 50,
                     "local_balance": "200000", "counted": "0"},
                ]},
            ],
        },
        "assets": [
            {"code": "INR", "decimals": 2, "peg": "fiat", "currency": "INR",
             "price": {"currency": "INR", "coefficient": "812345678", "scale": 2, "time": "2026-11-30T23:00:00Z",
                       "manual": True},
             "min_coverage_bps": 15000,
             "liabilities": {"root": txid("handmade INR root"), "total": "123456789", "height": 4, "accounts": "3"}},
            {"code": "SAT", "decimals": 0, "peg": "sat", "min_coverage_bps": 10000,
             # 97020339 was searched for so that C x 10000 / worth = 15042.00008 (so
             # dividing by the rounded-up backing instead gives 15041).
             "liabilities": {"root": txid("handmade SAT root"), "total": "97020339", "height": 3, "accounts": "5"}},
        ],
        "stale": False, "stale_sources": [],
    }


def class_counted(eligible, rule):
    if not rule["counts"]:
        return 0
    return eligible * (10000 - rule["haircut_bps"]) // 10000


def liabilities_sats(asset, bps):
    """4.4: R(a, b) as an exact fraction."""
    t = int(asset["liabilities"]["total"])
    if asset["peg"] == "sat":
        return Fraction(t * bps, 10000)
    pr = asset["price"]
    return Fraction(t * bps * 10 ** 8 * 10 ** pr["scale"],
                    10000 * 10 ** asset["decimals"] * int(pr["coefficient"]))


def fill(doc, tweak=None):
    """4.4: every derived figure; tweak may replace one rule to break it."""
    tweak = tweak or {}
    rules = doc["counting"]
    minc = rules["min_confirmations"]
    onchain = doc["reserves"]["onchain"]
    listed = sum(int(u["value"]) for u in onchain)
    eligible = tweak.get("eligible", sum(int(u["value"]) for u in onchain if u["confirmations"] >= minc))
    on_counted = tweak.get("onchain_counted", class_counted)(eligible, rules["onchain"])
    chans = [c for n in doc["reserves"]["lightning"] for c in n["channels"]]
    ln_eligible = sum(int(c["counted"]) for c in chans)
    ln_counted = class_counted(ln_eligible, rules["lightning"])
    counted = on_counted + ln_counted
    doc["reserves"]["totals"] = {
        "onchain": {"listed": str(listed), "eligible": str(eligible), "counted": str(on_counted)},
        "lightning": {"capacity": str(sum(int(c["capacity"]) for c in chans)),
                      "local_balance": str(sum(int(c["local_balance"]) for c in chans)),
                      "eligible": str(ln_eligible), "counted": str(ln_counted)},
        "counted": str(counted),
    }
    need = sum((liabilities_sats(a, a["min_coverage_bps"]) for a in doc["assets"]), Fraction(0))
    worth = sum((liabilities_sats(a, 10000) for a in doc["assets"]), Fraction(0))
    required = tweak.get("required", ceil)(need)
    bps = tweak.get("bps", lambda c, w: floor(Fraction(c * 10000) / w) if w > 0 else 0)(counted, worth)
    doc["coverage"] = {"counted_reserves": str(counted), "required": str(required), "backing": str(ceil(worth)),
                       "bps": str(bps), "backed": tweak.get("backed", counted >= required)}
    for v in (listed, eligible, counted, required, ceil(worth)):
        assert 0 <= v <= MAX_SUM
    return {"need": need, "worth": worth}


def node_message(doc):
    body = without(doc, "signature")
    body["reserves"] = dict(body["reserves"], lightning=[without(n, "signature") for n in doc["reserves"]["lightning"]])
    return b"kosh/attestation:" + tagged_hash("kosh/attestation", cb(body)).hex().encode()


def sign_attestation(doc, issuer=ISSUER, node_doc=None):
    """4.8 then 4.7: node x signs (y does not), then the issuer."""
    doc = dict(doc)
    msg = node_message(node_doc if node_doc is not None else doc)
    nodes = [dict(n) for n in doc["reserves"]["lightning"]]
    for n in nodes:
        if n["name"] == "x":
            n["signature"] = node_sign(msg, NODE_X)
    doc["reserves"] = dict(doc["reserves"], lightning=nodes)
    doc.pop("signature", None)
    digest = tagged_hash("kosh/attestation", cb(doc))
    doc["signature"] = schnorr_sign(digest, issuer, AUX).hex()
    return doc


def copy(doc):
    return json.loads(json.dumps(doc))


def node(doc, name):
    return next(n for n in doc["reserves"]["lightning"] if n["name"] == name)


def attestation_cases():
    cases = []

    def add(name, doc, verdict, why, text=None, figures=None):
        c = {"name": name, "document": text if text is not None else canon(doc), "verdict": verdict, "why": why}
        if text is None and verdict == "valid":
            c["id"] = tagged_hash("kosh/attestation", cb(without(doc, "signature"))).hex()
            c["node_message"] = node_message(doc).decode()
            c["figures"] = figures
        cases.append(c)

    base = attest_base()
    exact = fill(base)
    good = sign_attestation(base)
    # The figures, by hand (docs/proofs.md 8.4 quotes them).
    t = good["reserves"]["totals"]
    assert t["onchain"]["eligible"] == str(123456789 + 50000000)
    assert t["onchain"]["counted"] == str((123456789 + 50000000) * 9667 // 10000)
    assert t["lightning"]["counted"] == str(1490000 * 7500 // 10000)
    figures = {"need": str(exact["need"]), "worth": str(exact["worth"])}
    figures.update({"totals": t, "coverage": good["coverage"]})
    add("valid: two on-chain classes of confirmation, a haircut on each class, a signed and an unsigned node, "
        "a fiat and a sat asset", good, "valid", "every figure recomputed by 4.4", figures=figures)

    d = copy(base)
    fill(d, {"onchain_counted": lambda e, r: -((-e * (10000 - r["haircut_bps"])) // 10000)})
    assert d["reserves"]["totals"]["onchain"]["counted"] != good["reserves"]["totals"]["onchain"]["counted"]
    add("on-chain haircut rounded up, figures carried through, re-signed", sign_attestation(d), "sum",
        "4.4: the class rule rounds down")
    d = copy(base)
    fill(d, {"eligible": 123456789 + 1000001 + 50000000})
    add("output with 5 of 6 confirmations counted as eligible, re-signed", sign_attestation(d), "sum",
        "4.4: eligible sums confirmations >= min_confirmations")
    d = copy(base)
    fill(d, {"required": floor})
    assert d["coverage"]["required"] != good["coverage"]["required"]
    add("required rounded down, re-signed", sign_attestation(d), "coverage", "4.4: required = ceil(need)")
    d = copy(base)
    fill(d, {"bps": lambda c, w: ceil(Fraction(c * 10000) / w)})
    assert d["coverage"]["bps"] != good["coverage"]["bps"]
    add("bps rounded up, re-signed", sign_attestation(d), "coverage", "4.4: bps rounds down")
    d = copy(base)
    fill(d, {"bps": lambda c, w: floor(Fraction(c * 10000, ceil(w)))})
    assert d["coverage"]["bps"] != good["coverage"]["bps"]
    add("bps divided by the rounded-up backing, re-signed", sign_attestation(d), "coverage",
        "4.4: bps divides by the exact worth")
    d = copy(base)
    fill(d, {"backed": False})
    add("backed denied while covered, re-signed", sign_attestation(d), "coverage", "4.4: backed = C >= required")
    d = copy(base)
    node(d, "x")["channels"][1]["counted"] = "90000"
    fill(d)
    add("channel with 3 of 6 confirmations counts, re-signed", sign_attestation(d), "sum",
        "4.2 channel: counted must be 0 below min_confirmations (a figure the counting rules do not give)")
    d = copy(base)
    node(d, "y")["channels"][0]["counted"] = "10000"
    fill(d)
    add("unsigned node's channel counts, re-signed", sign_attestation(d), "sum",
        "4.2 channel / 4.8: a node without a signature counts nothing (a figure the counting rules do not give)")
    d = copy(base)
    d["reserves"]["onchain"][0], d["reserves"]["onchain"][1] = d["reserves"]["onchain"][1], d["reserves"]["onchain"][0]
    fill(d)
    add("outputs sorted by vout as text (10 before 2), re-signed", sign_attestation(d), "malformed",
        "1/4.2: vout compares as a number")
    d = copy(base)
    ch = node(d, "x")["channels"][0]
    d["reserves"]["onchain"].append({"outpoint": ch["channel_point"], "value": ch["capacity"], "confirmations": 10,
                                     "source": "chain"})
    d["reserves"]["onchain"].sort(key=lambda u: (u["outpoint"].split(":")[0], int(u["outpoint"].split(":")[1])))
    fill(d)
    add("a channel point also listed as an output, re-signed", sign_attestation(d), "sum",
        "4.2: every outpoint once, or it is counted twice")
    add("signed by another key than issuer_key", dict(good, signature=schnorr_sign(
        tagged_hash("kosh/attestation", cb(without(good, "signature"))), OTHER, AUX).hex()), "signature",
        "4.7: BIP-340 under issuer_key")
    add("issuer signature over the bytes with the signature member", dict(good, signature=schnorr_sign(
        tagged_hash("kosh/attestation", cb(dict(good, signature=""))), ISSUER, AUX).hex()), "signature",
        "4.7: unsigned = the document without its signature member")
    d = copy(base)
    fill(d)
    stale_view = copy(d)
    stale_view["journal_cutoff"] = "4241"
    add("node signed another version of the figures, issuer re-signed", sign_attestation(d, node_doc=stale_view),
        "signature", "4.8: the node message covers every figure")
    add("whitespace after a comma", None, "not_canonical", "4.1: exactly the canonical bytes",
        text=canon(good).replace(',"block"', ', "block"', 1))
    return cases


def main():
    check_bip340()
    out = {
        "receipts.json": {"comment": "Hand-derived by derive.py from docs/proofs.md 6; never written by Go tests. "
                          "verdict: valid | signature | malformed | not_canonical "
                          "(classes as docs/proofs.md 8.4 defines them).",
                          "cases": receipt_cases()},
        "attestations.json": {"comment": "Hand-derived by derive.py from docs/proofs.md 4; never written by Go tests. "
                              "verdict: valid | sum | coverage | malformed | signature | not_canonical "
                              "(classes as docs/proofs.md 8.4 defines them).",
                              "cases": attestation_cases()},
    }
    bad = False
    for name, v in out.items():
        text = json.dumps(v, indent=1, ensure_ascii=False) + "\n"
        path = os.path.join(HERE, name)
        if "--check" in sys.argv:
            with open(path, encoding="utf-8") as f:
                if f.read() != text:
                    print("%s differs from what derive.py derives" % name)
                    bad = True
        else:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
