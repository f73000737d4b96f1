/**
 * Redis's glob matching (util.c stringmatchlen), byte for byte: `*`, `?`, `[abc]`,
 * `[^a]`, `[a-z]` (reversed ranges allowed), `\` escapes, an unclosed `[` running to the
 * end of the pattern. Patterns are matched in JavaScript, never handed to SQL as text.
 */
export function globMatch(pattern: Buffer, subject: Buffer, nocase = false): boolean {
  return matchAt(pattern, 0, subject, 0, nocase);
}

const lower = (c: number) => (c >= 0x41 && c <= 0x5a ? c + 32 : c);

function matchAt(p: Buffer, pi: number, s: Buffer, si: number, nocase: boolean): boolean {
  const start = si;
  const pl = p.length;
  const sl = s.length;
  while (pi < pl && si < sl) {
    const c = p[pi];
    if (c === 0x2a /* * */) {
      while (pi + 1 < pl && p[pi + 1] === 0x2a) pi++;
      if (pi + 1 === pl) return true;
      for (let k = si; k < sl; k++) if (matchAt(p, pi + 1, s, k, nocase)) return true;
      return false;
    } else if (c === 0x3f /* ? */) {
      si++;
    } else if (c === 0x5b /* [ */) {
      pi++;
      const not = p[pi] === 0x5e;
      if (not) pi++;
      let match = false;
      for (;;) {
        if (pi >= pl) {
          pi--; // unclosed class: ends with the pattern
          break;
        }
        if (p[pi] === 0x5c /* \ */ && pi + 1 < pl) {
          pi++;
          if (p[pi] === s[si]) match = true;
        } else if (p[pi] === 0x5d /* ] */) {
          break;
        } else if (pi + 2 < pl && p[pi + 1] === 0x2d /* - */) {
          let start = p[pi];
          let end = p[pi + 2];
          let ch = s[si];
          if (start > end) [start, end] = [end, start];
          if (nocase) {
            start = lower(start);
            end = lower(end);
            ch = lower(ch);
          }
          pi += 2;
          if (ch >= start && ch <= end) match = true;
        } else if (nocase ? lower(p[pi]) === lower(s[si]) : p[pi] === s[si]) {
          match = true;
        }
        pi++;
      }
      if (not) match = !match;
      if (!match) return false;
      si++;
    } else {
      let lit = c;
      if (c === 0x5c /* \ */ && pi + 1 < pl) {
        pi++;
        lit = p[pi];
      }
      if (nocase ? lower(lit) !== lower(s[si]) : lit !== s[si]) return false;
      si++;
    }
    pi++;
  }
  // The subject is consumed: what is left of the pattern must be stars only. Redis checks
  // this only after consuming a byte, so an empty key matches no pattern but "" (KEYS/SCAN
  // treat a lone "*" as match-all before matching).
  if (si === sl && si > start) {
    while (pi < pl && p[pi] === 0x2a) pi++;
  }
  return pi === pl && si === sl;
}

/**
 * The literal text every match must start with (up to the first special character),
 * used to narrow the SQL side with an escaped LIKE prefix; the glob still decides.
 */
export function globPrefix(pattern: Buffer): string {
  let end = 0;
  while (end < pattern.length && ![0x2a, 0x3f, 0x5b, 0x5c].includes(pattern[end])) end++;
  // Cut at a character boundary: a prefix is only useful as valid text.
  let prefix = pattern.subarray(0, end).toString('utf8');
  if (prefix.endsWith('\uFFFD')) prefix = prefix.slice(0, -1);
  return prefix;
}
