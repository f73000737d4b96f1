/**
 * A reference for Redis's glob matching: a line-by-line port of stringmatchlen() from
 * Redis 7.0's util.c (case-sensitive), kept deliberately close to the C, pointer and
 * length arithmetic included. Reading past the end of the pattern yields 0, as the C reads
 * the NUL terminator of the sds string. It is independent of src/commands/glob.ts, which is
 * what it checks.
 */
export function redisStringMatch(pattern: Buffer, string: Buffer): boolean {
  return matchImpl(pattern, 0, pattern.length, string, 0, string.length, { skipLongerMatches: false });
}

function matchImpl(
  pat: Buffer,
  p: number,
  patternLen: number,
  str: Buffer,
  s: number,
  stringLen: number,
  state: { skipLongerMatches: boolean },
): boolean {
  const at = (i: number) => (i < pat.length ? pat[i] : 0);
  while (patternLen && stringLen) {
    switch (at(p)) {
      case 0x2a /* * */: {
        while (patternLen && at(p + 1) === 0x2a) {
          p++;
          patternLen--;
        }
        if (patternLen === 1) return true;
        while (stringLen) {
          if (matchImpl(pat, p + 1, patternLen - 1, str, s, stringLen, state)) return true;
          if (state.skipLongerMatches) return false;
          s++;
          stringLen--;
        }
        state.skipLongerMatches = true;
        return false;
      }
      case 0x3f /* ? */:
        s++;
        stringLen--;
        break;
      case 0x5b /* [ */: {
        p++;
        patternLen--;
        const not = at(p) === 0x5e;
        if (not) {
          p++;
          patternLen--;
        }
        let match = false;
        for (;;) {
          if (at(p) === 0x5c && patternLen >= 2) {
            p++;
            patternLen--;
            if (at(p) === str[s]) match = true;
          } else if (at(p) === 0x5d) {
            break;
          } else if (patternLen === 0) {
            p--;
            patternLen++;
            break;
          } else if (patternLen >= 3 && at(p + 1) === 0x2d) {
            let start = at(p);
            let end = at(p + 2);
            const c = str[s];
            if (start > end) [start, end] = [end, start];
            p += 2;
            patternLen -= 2;
            if (c >= start && c <= end) match = true;
          } else if (at(p) === str[s]) {
            match = true;
          }
          p++;
          patternLen--;
        }
        if (not) match = !match;
        if (!match) return false;
        s++;
        stringLen--;
        break;
      }
      case 0x5c /* \ */:
        if (patternLen >= 2) {
          p++;
          patternLen--;
        }
        if (at(p) !== str[s]) return false;
        s++;
        stringLen--;
        break;
      default:
        if (at(p) !== str[s]) return false;
        s++;
        stringLen--;
        break;
    }
    p++;
    patternLen--;
    if (stringLen === 0) {
      while (at(p) === 0x2a) {
        p++;
        patternLen--;
      }
      break;
    }
  }
  return patternLen === 0 && stringLen === 0;
}
