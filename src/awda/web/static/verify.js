// The offline card verifier of /verify (format: docs/cards.md). It loads the trust list and the
// status list once, then checks cards on this device: Base45, zlib (DecompressionStream), CBOR,
// COSE_Sign1 with WebCrypto, expiry against the device clock, and the card's revocation bit.

const PREFIX = "AW1:";
const BASE45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
const MAX_INFLATED = 1 << 20; // a card or a status list is far smaller; this stops zip bombs
const MAX_DEPTH = 16;
const TAG_SIGN1 = 18;
const STATUS_LIST_TYPE = "application/statuslist+cwt";
const CLAIM = {
  iss: 1, sub: 2, exp: 4, nbf: 5, iat: 6, cti: 7, ttl: 65534, statusList: 65533, status: 65535, awda: -65537,
};
const HEADER = { alg: 1, kid: 4, typ: 16 };
// COSE algorithm number -> [trust-list name, WebCrypto import parameters, WebCrypto verify parameters]
const ALGORITHMS = new Map([
  [-7, ["ES256", { name: "ECDSA", namedCurve: "P-256" }, { name: "ECDSA", hash: "SHA-256" }]],
  [-8, ["EdDSA", { name: "Ed25519" }, { name: "Ed25519" }]],
]);

// A check that failed; `reason` names the message shown (the keys of the page's messages).
class Failure extends Error {
  constructor(reason) {
    super(reason);
    this.reason = reason;
  }
}

function concat(parts) {
  const out = new Uint8Array(parts.reduce((size, part) => size + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function hex(bytes) {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function uuid(bytes) {
  const digits = hex(bytes);
  const groups = [[0, 8], [8, 12], [12, 16], [16, 20], [20, 32]];
  return groups.map(([start, end]) => digits.slice(start, end)).join("-");
}

// RFC 9285: three characters carry two bytes, a final pair carries one.
export function base45Decode(text) {
  const out = [];
  for (let start = 0; start < text.length; start += 3) {
    const chunk = text.slice(start, start + 3);
    const digits = Array.from(chunk, (character) => BASE45.indexOf(character));
    if (chunk.length < 2 || digits.includes(-1)) throw new Failure("base45");
    const value = digits.reduce((sum, digit, position) => sum + digit * 45 ** position, 0);
    if (value > (chunk.length === 3 ? 0xffff : 0xff)) throw new Failure("base45");
    if (chunk.length === 3) out.push(value >> 8);
    out.push(value & 0xff);
  }
  return Uint8Array.from(out);
}

// zlib (RFC 1950): DecompressionStream's "deflate" is the zlib format, trailing bytes rejected.
export async function inflate(bytes) {
  const reader = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate")).getReader();
  const parts = [];
  let size = 0;
  try {
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      size += chunk.value.length;
      if (size > MAX_INFLATED) throw new Failure("zlib");
      parts.push(chunk.value);
    }
  } catch {
    reader.cancel().catch(() => {});
    throw new Failure("zlib");
  }
  return concat(parts);
}

export class Tagged {
  constructor(tag, value) {
    this.tag = tag;
    this.value = value;
  }
}

// A minimal CBOR (RFC 8949) reader: the definite-length items awda writes (ints of any sign,
// byte and text strings, arrays, maps, tags, false/true/null). Anything else is refused.
class CborReader {
  constructor(bytes) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.offset = 0;
    this.text = new TextDecoder("utf-8", { fatal: true });
  }

  take(length) {
    if (typeof length !== "number" || this.offset + length > this.bytes.length) throw new Failure("cose");
    this.offset += length;
    return this.bytes.subarray(this.offset - length, this.offset);
  }

  argument(info) {
    if (info < 24) return info;
    const width = { 24: 1, 25: 2, 26: 4, 27: 8 }[info];
    if (width === undefined) throw new Failure("cose"); // indefinite lengths are not used
    const at = this.offset;
    this.take(width);
    if (width === 1) return this.view.getUint8(at);
    if (width === 2) return this.view.getUint16(at);
    if (width === 4) return this.view.getUint32(at);
    const big = this.view.getBigUint64(at);
    return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
  }

  item(depth = 0) {
    if (depth > MAX_DEPTH) throw new Failure("cose");
    const initial = this.take(1)[0];
    const major = initial >> 5;
    const info = initial & 0x1f;
    if (major === 7) return this.simple(info);
    const argument = this.argument(info);
    if (major === 0) return argument;
    if (major === 1) return typeof argument === "bigint" ? -1n - argument : -1 - argument;
    if (major === 2) return this.take(argument).slice();
    if (major === 3) return this.text.decode(this.take(argument));
    if (major === 6) return new Tagged(argument, this.item(depth + 1));
    if (typeof argument !== "number" || argument > this.bytes.length - this.offset) throw new Failure("cose");
    if (major === 4) return Array.from({ length: argument }, () => this.item(depth + 1));
    return this.map(argument, depth);
  }

  map(size, depth) {
    const map = new Map();
    for (let entry = 0; entry < size; entry += 1) {
      const key = this.item(depth + 1);
      if (map.has(key)) throw new Failure("cose");
      map.set(key, this.item(depth + 1));
    }
    return map;
  }

  simple(info) {
    const values = { 20: false, 21: true, 22: null };
    if (!(info in values)) throw new Failure("cose");
    return values[info];
  }
}

export function decodeCbor(bytes) {
  const reader = new CborReader(bytes);
  try {
    const item = reader.item();
    if (reader.offset !== bytes.length) throw new Failure("cose");
    return item;
  } catch (error) {
    throw error instanceof Failure ? error : new Failure("cose"); // e.g. invalid UTF-8
  }
}

function cborHead(major, length) {
  const type = major << 5;
  if (length < 24) return [type | length];
  if (length < 0x100) return [type | 24, length];
  if (length < 0x10000) return [type | 25, length >> 8, length & 0xff];
  return [type | 26, length >>> 24, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff];
}

// What a COSE_Sign1 signature covers: ["Signature1", protected, h'', payload] (RFC 9052, 4.4).
export function sigStructure(protectedBytes, payload) {
  const context = new TextEncoder().encode("Signature1");
  return concat([
    Uint8Array.of(0x84),
    Uint8Array.from(cborHead(3, context.length)),
    context,
    Uint8Array.from(cborHead(2, protectedBytes.length)),
    protectedBytes,
    Uint8Array.of(0x40),
    Uint8Array.from(cborHead(2, payload.length)),
    payload,
  ]);
}

function readSign1(bytes) {
  const item = decodeCbor(bytes);
  if (!(item instanceof Tagged) || item.tag !== TAG_SIGN1 || !Array.isArray(item.value)) throw new Failure("cose");
  const [protectedBytes, unprotected, payload, signature] = item.value;
  const shaped = item.value.length === 4 && unprotected instanceof Map;
  if (!shaped || ![protectedBytes, payload, signature].every((part) => part instanceof Uint8Array)) {
    throw new Failure("cose");
  }
  const header = protectedBytes.length ? decodeCbor(protectedBytes) : new Map();
  if (!(header instanceof Map)) throw new Failure("cose");
  return { protectedBytes, header, payload, signature };
}

async function checkSignature(sign1, trust) {
  const kid = sign1.header.get(HEADER.kid);
  const entry = kid instanceof Uint8Array ? trust.get(hex(kid)) : undefined;
  if (!entry) throw new Failure("kid");
  const algorithm = ALGORITHMS.get(sign1.header.get(HEADER.alg));
  if (!algorithm || algorithm[0] !== entry.alg) throw new Failure("algorithm");
  entry.key ??= crypto.subtle.importKey("spki", entry.der, algorithm[1], false, ["verify"]);
  const key = await entry.key.catch(() => {
    throw new Failure("algorithm");
  });
  const signed = sigStructure(sign1.protectedBytes, sign1.payload);
  if (!(await crypto.subtle.verify(algorithm[2], key, sign1.signature, signed))) throw new Failure("signature");
  return entry;
}

function base64Bytes(text) {
  return Uint8Array.from(atob(text), (character) => character.charCodeAt(0));
}

// The trust list (JSON): kid hex -> {alg, der, retiredAt}; an entry whose kid is not its key's hash is dropped.
export async function readTrustList(listDocument) {
  if (listDocument.format !== "awda-trust-list/1" || !Array.isArray(listDocument.keys)) {
    throw new Failure("trust_list");
  }
  const trust = new Map();
  for (const key of listDocument.keys) {
    const der = base64Bytes(key.public_key);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", der));
    const retiredAt = key.retired_at ? Date.parse(key.retired_at) / 1000 : Infinity;
    if (hex(digest.subarray(0, 8)) === key.kid) trust.set(key.kid, { alg: key.alg, der, retiredAt });
  }
  return trust;
}

// The status list (COSE_Sign1 bytes), signature checked against the trust list.
export async function readStatusList(bytes, trust) {
  const sign1 = readSign1(bytes);
  if (sign1.header.get(HEADER.typ) !== STATUS_LIST_TYPE) throw new Failure("status_list");
  const signer = await checkSignature(sign1, trust);
  const claims = decodeCbor(sign1.payload);
  const list = claims instanceof Map ? claims.get(CLAIM.statusList) : undefined;
  if (!(list instanceof Map) || list.get("bits") !== 1 || !(list.get("lst") instanceof Uint8Array)) {
    throw new Failure("status_list");
  }
  const times = [CLAIM.iat, CLAIM.exp, CLAIM.ttl].map((key) => claims.get(key));
  if (!times.every(Number.isSafeInteger)) throw new Failure("status_list");
  const [issuedAt, expiresAt, ttl] = times;
  if (issuedAt > signer.retiredAt) throw new Failure("status_list");
  return { uri: claims.get(CLAIM.sub), issuedAt, expiresAt, ttl, bits: await inflate(list.get("lst")) };
}

function typed(container, key, check) {
  const value = container instanceof Map ? container.get(key) : undefined;
  if (!check(value)) throw new Failure("claims");
  return value;
}

function optional(container, key, check) {
  return container instanceof Map && container.has(key) ? typed(container, key, check) : undefined;
}

const isText = (value) => typeof value === "string";
const isTime = (value) => Number.isSafeInteger(value);
const isMap = (value) => value instanceof Map;

// The card's claims (docs/cards.md, "Claim map"), held to the same rules as awda's Python verifier.
function readCardClaims(payload) {
  const claims = decodeCbor(payload);
  const issuedAt = typed(claims, CLAIM.iat, isTime);
  if ((optional(claims, CLAIM.nbf, isTime) ?? issuedAt) !== issuedAt) throw new Failure("claims");
  const reference = typed(typed(claims, CLAIM.status, isMap), "status_list", isMap);
  const index = typed(reference, "idx", (value) => Number.isSafeInteger(value) && value >= 0);
  const cti = typed(claims, CLAIM.cti, (value) => value instanceof Uint8Array && value.length === 16);
  const awda = typed(claims, CLAIM.awda, isMap);
  typed(awda, "v", (value) => value === 1);
  const holder = optional(awda, "h", isMap) ?? new Map();
  const details = {
    agreement: typed(awda, "agr", isText),
    holder_ar: optional(holder, "ar", isText),
    holder_lat: optional(holder, "lat", isText),
    birth_year: optional(holder, "by", Number.isSafeInteger),
    card_id: uuid(cti),
    issuer: typed(claims, CLAIM.iss, isText),
    issued_at: issuedAt,
    expires_at: typed(claims, CLAIM.exp, isTime),
  };
  for (const [name, value] of Object.entries(details)) {
    if (value === undefined) delete details[name];
  }
  return { details, status: { index, uri: typed(reference, "uri", isText) } };
}

function cardStatus(status, list, now) {
  if (!list || status.uri !== list.uri || status.index >= list.bits.length * 8) return "unknown";
  if ((list.bits[Math.floor(status.index / 8)] >> status.index % 8) & 1) return "revoked";
  const fresh = now <= list.expiresAt && now - list.issuedAt <= list.ttl;
  return fresh ? "valid" : "unknown";
}

// The whole check of one card text: {verdict, reason, details}. Never throws.
// Order as the server reports it: decoding, signature, revocation, validity dates, status.
export async function verifyCard(text, lists, now) {
  const card = text.trim(); // a Base45 text never ends in a space, so trimming cannot change a card
  try {
    if (!card) throw new Failure("empty");
    if (!card.startsWith(PREFIX)) throw new Failure("prefix");
    const sign1 = readSign1(await inflate(base45Decode(card.slice(PREFIX.length))));
    const signer = await checkSignature(sign1, lists.trust);
    const { details, status } = readCardClaims(sign1.payload);
    if (details.issued_at > signer.retiredAt) throw new Failure("signature");
    const revocation = cardStatus(status, lists.status, now);
    if (revocation === "revoked") return { verdict: "revoked", reason: "revoked", details };
    if (now > details.expires_at) return { verdict: "invalid", reason: "expired", details };
    if (now < details.issued_at) return { verdict: "invalid", reason: "not_yet_valid", details };
    if (revocation === "unknown") return { verdict: "unknown", reason: "status_unknown", details };
    return { verdict: "valid", reason: "valid", details };
  } catch (error) {
    if (!(error instanceof Failure)) console.error(error); // a bug here must not leave the user without an answer
    return { verdict: "invalid", reason: error instanceof Failure ? error.reason : "cose", details: {} };
  }
}

async function fetchLists(form) {
  const [trustResponse, statusResponse] = await Promise.all([
    fetch(form.dataset.trustList, { cache: "no-cache" }),
    fetch(form.dataset.statusList, { cache: "no-cache" }),
  ]);
  if (!trustResponse.ok) throw new Failure("trust_list");
  const trust = await readTrustList(await trustResponse.json());
  let status = null;
  try {
    if (statusResponse.ok) status = await readStatusList(new Uint8Array(await statusResponse.arrayBuffer()), trust);
  } catch (error) {
    if (!(error instanceof Failure)) throw error;
  }
  return { trust, status };
}

// ---- The page: lists loaded once, the form checked here, results written in the page's language.

const DETAIL_ORDER = [
  "agreement", "holder_ar", "holder_lat", "birth_year", "card_id", "issuer", "issued_at", "expires_at",
];
const HOLDER_KEYS = ["holder_ar", "holder_lat", "birth_year"];

function element(name, text, attributes = {}) {
  const node = document.createElement(name);
  if (text !== undefined) node.textContent = text;
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  return node;
}

function ago(seconds, locale) {
  const format = new Intl.RelativeTimeFormat(locale, { numeric: "auto" }); // "now", "yesterday"
  const units = [["day", 86400], ["hour", 3600], ["minute", 60], ["second", 1]];
  const [unit, size] = units.find(([, length]) => Math.abs(seconds) >= length) ?? units[3];
  return format.format(-Math.round(seconds / size), unit);
}

function detailValue(name, value, locale) {
  if (name === "card_id") return element("code", value, { dir: "ltr" });
  if (name === "issued_at" || name === "expires_at") {
    const date = new Intl.DateTimeFormat(locale, { dateStyle: "long", timeZone: "UTC" });
    return document.createTextNode(date.format(new Date(value * 1000)));
  }
  return element("bdi", String(value));
}

function showOutcome(section, outcome, messages, listAge) {
  const locale = document.documentElement.lang;
  section.replaceChildren(element("h2", messages[`verdict_${outcome.verdict}`]));
  section.append(element("p", messages[outcome.reason], { class: "reason" }));
  const names = DETAIL_ORDER.filter((name) => name in outcome.details);
  if (names.length) {
    const facts = element("dl", undefined, { class: "facts" });
    for (const name of names) {
      const value = element("dd", undefined, { "data-detail": name });
      value.append(detailValue(name, outcome.details[name], locale));
      facts.append(element("dt", messages[name]), value);
    }
    const age = listAge === null ? messages.no_list : ago(listAge, locale);
    facts.append(element("dt", messages.list_issued), element("dd", age, { "data-detail": "list_issued" }));
    section.append(facts);
    if (!HOLDER_KEYS.some((name) => name in outcome.details)) {
      section.append(element("p", messages.no_holder, { class: "hint" }));
    }
  }
  section.append(element("p", messages.checked_here, { class: "hint" }));
  section.className = `outcome outcome-${outcome.verdict}`;
  section.dataset.verdict = outcome.verdict;
  section.hidden = false;
  section.focus();
}

function showLists(lists, messages) {
  const locale = document.documentElement.lang;
  const age = lists.status ? ago(Date.now() / 1000 - lists.status.issuedAt, locale) : messages.no_list;
  document.getElementById("lists-keys").textContent = new Intl.NumberFormat(locale).format(lists.trust.size);
  document.getElementById("lists-age").textContent = age;
  document.getElementById("lists-facts").hidden = false;
}

async function setUpScanner(textarea, check, messages, state) {
  if (!("BarcodeDetector" in window) || !navigator.mediaDevices) return;
  const formats = await BarcodeDetector.getSupportedFormats().catch(() => []);
  if (!formats.includes("qr_code")) return;
  const button = document.getElementById("scan");
  const video = document.getElementById("camera");
  let stream = null;
  const stop = () => {
    stream?.getTracks().forEach((track) => track.stop());
    stream = null;
    video.hidden = true;
    button.textContent = messages.scan;
  };
  const look = async (detector) => {
    if (!stream) return;
    const codes = await detector.detect(video).catch(() => []);
    const card = codes.find((code) => code.rawValue.startsWith(PREFIX));
    if (card) {
      stop();
      textarea.value = card.rawValue;
      await check();
    } else {
      setTimeout(() => look(detector), 250); // a few looks a second spare a phone's battery
    }
  };
  button.addEventListener("click", async () => {
    if (stream) return stop();
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    } catch {
      state.textContent = messages.camera_failed;
      return;
    }
    video.srcObject = stream;
    video.hidden = false;
    button.textContent = messages.stop;
    await video.play().catch(() => {});
    look(new BarcodeDetector({ formats: ["qr_code"] }));
  });
  button.hidden = false;
}

async function setUp() {
  const form = document.getElementById("verify-form");
  const textarea = document.getElementById("card");
  const section = document.getElementById("outcome");
  const state = document.getElementById("lists-state");
  const messages = JSON.parse(document.getElementById("verify-messages").textContent);
  document.getElementById("lists").hidden = false; // without JavaScript the server checks cards, no lists here
  if (!globalThis.crypto?.subtle || !globalThis.DecompressionStream) {
    state.textContent = messages.lists_failed; // not HTTPS, or an old browser: the form posts to the server
    return;
  }
  state.textContent = messages.lists_loading;
  let lists;
  try {
    lists = await fetchLists(form);
  } catch {
    state.textContent = messages.lists_failed;
    return;
  }
  state.textContent = messages.lists_ready;
  showLists(lists, messages);
  const check = async () => {
    delete section.dataset.verdict;
    const now = Date.now() / 1000;
    const outcome = await verifyCard(textarea.value, lists, now);
    showOutcome(section, outcome, messages, lists.status ? now - lists.status.issuedAt : null);
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    check();
  });
  form.dataset.ready = "true";
  await setUpScanner(textarea, check, messages, state);
}

setUp();
