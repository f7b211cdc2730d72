// Token amounts as the UI shows them ("1,234.5678 IWT", "0.0312") turned into plain
// decimal strings and compared exactly, without floats (the UI rounds down to a few
// decimals; the E2E suite compares what the owner sees).

/** The first number in `text` as a plain decimal string ("1234.5678"); throws if none. */
export function parseAmount(text) {
  const m = /-?\d[\d,\u00a0\u202f ]*(?:\.\d+)?/.exec(String(text));
  if (!m) throw new Error(`no amount in ${JSON.stringify(text)}`);
  return m[0].replace(/[,\u00a0\u202f ]/g, '');
}

/** Compares two non-negative decimal strings: -1, 0 or 1. */
export function compareDecimal(a, b) {
  const [ai, af = ''] = String(a).split('.');
  const [bi, bf = ''] = String(b).split('.');
  const width = Math.max(af.length, bf.length);
  const x = BigInt(ai + af.padEnd(width, '0'));
  const y = BigInt(bi + bf.padEnd(width, '0'));
  return x < y ? -1 : x > y ? 1 : 0;
}
