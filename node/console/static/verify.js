// Accord console: an auditor's browser checks an audit entry's inclusion proof itself.
//
// It trusts neither the hub nor this node: from the entry's bytes it computes
// the RFC 6962 leaf hash, walks the inclusion proof (RFC 9162, section
// 2.1.3.2) up to a root, and checks that root against the checkpoint note,
// whose Ed25519 signature it verifies with the hub's public key. Everything
// runs on the browser's own WebCrypto.
"use strict";

(function () {
  function hexToBytes(hex) {
    var out = new Uint8Array(hex.length / 2);
    for (var i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
    return out;
  }
  function b64ToBytes(text) {
    var raw = atob(text);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }
  function concat(parts) {
    var size = parts.reduce(function (n, p) { return n + p.length; }, 0);
    var out = new Uint8Array(size);
    var at = 0;
    parts.forEach(function (p) { out.set(p, at); at += p.length; });
    return out;
  }
  function equal(a, b) {
    if (a.length !== b.length) return false;
    var diff = 0;
    for (var i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
    return diff === 0;
  }
  async function sha256(bytes) {
    return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  }
  function leafHash(entry) { return sha256(concat([new Uint8Array([0]), entry])); }
  function nodeHash(left, right) { return sha256(concat([new Uint8Array([1]), left, right])); }

  // RFC 9162, 2.1.3.2: the root a proof leads to from leaf `index` of `size`.
  async function rootFromProof(leaf, index, size, proof) {
    if (index >= size) throw new Error("the leaf index is outside the tree");
    var fn = index, sn = size - 1, r = leaf;
    for (var i = 0; i < proof.length; i++) {
      var p = proof[i];
      if (sn === 0) throw new Error("the proof is longer than the tree is deep");
      if (fn % 2 === 1 || fn === sn) {
        r = await nodeHash(p, r);
        if (fn % 2 === 0) {
          while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
        }
      } else {
        r = await nodeHash(r, p);
      }
      fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
    }
    if (sn !== 0) throw new Error("the proof is shorter than the tree is deep");
    return r;
  }

  // A C2SP signed note: "<origin>\n<size>\n<base64 root>\n\n— <name> <base64(keyid || sig)>\n".
  function parseNote(note) {
    var split = note.indexOf("\n\n");
    if (split < 0) throw new Error("the checkpoint note has no signature");
    var body = note.slice(0, split + 1);
    var lines = body.split("\n");
    var signatures = note.slice(split + 2).split("\n").filter(function (l) { return l; });
    return { body: body, origin: lines[0], size: parseInt(lines[1], 10),
             root: b64ToBytes(lines[2]), signatures: signatures };
  }

  async function signedByHub(note, keys, keyName) {
    var message = new TextEncoder().encode(note.body);
    for (var i = 0; i < note.signatures.length; i++) {
      var parts = note.signatures[i].split(" ");
      if (parts.length !== 3 || parts[0] !== "\u2014" || parts[1] !== keyName) continue;
      var blob = b64ToBytes(parts[2]);
      var signature = blob.slice(4);
      for (var k = 0; k < keys.length; k++) {
        var key = await crypto.subtle.importKey("raw", keys[k], { name: "Ed25519" }, false,
                                                ["verify"]);
        if (await crypto.subtle.verify({ name: "Ed25519" }, key, signature, message)) return true;
      }
    }
    return false;
  }

  async function check(section) {
    var data = section.dataset;
    var entry = b64ToBytes(data.entry);
    var index = parseInt(data.index, 10);
    var proof = data.proof ? data.proof.split(",").map(hexToBytes) : [];
    var note = parseNote(data.note);
    var keys = data.keys.split(",").map(b64ToBytes);
    if (note.origin !== data.origin) throw new Error("the checkpoint is for another log");
    if (!(await signedByHub(note, keys, data.keyName))) {
      throw new Error("the checkpoint's signature does not verify with the hub's key");
    }
    var leaf = await leafHash(entry);
    var root = await rootFromProof(leaf, index, note.size, proof);
    if (!equal(root, note.root)) throw new Error("the proof does not lead to the signed root");
    return "entry #" + (index + 1) + " is in the log of " + note.size + " entries whose root " +
      "the hub signed: leaf hash, " + proof.length + " proof hash(es) and the Ed25519 " +
      "signature checked by this browser";
  }

  async function run() {
    var section = document.getElementById("browser-check");
    if (!section) return;
    var result = document.getElementById("browser-result");
    try {
      result.textContent = "Verified in this browser: " + (await check(section)) + ".";
      section.classList.add("ok");
      section.dataset.verified = "yes";
    } catch (error) {
      result.textContent = "Not verified in this browser: " + error.message + ".";
      result.setAttribute("role", "alert");
      section.classList.add("bad");
      section.dataset.verified = "no";
    }
  }
  window.accordVerifyEntry = run;
  document.addEventListener("DOMContentLoaded", run);
})();
