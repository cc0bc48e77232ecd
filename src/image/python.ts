// The few Python semantics stream_layered_image.py's output depends on, in
// TypeScript: datetime.fromisoformat / isoformat / timestamp (created, mtime),
// int() of the uid/gid, and repr() of a list of strings (history comments).

/** A datetime as Python holds it: wall-clock fields plus an optional UTC offset. */
export interface PyDateTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  microsecond: number;
  /** offset from UTC in microseconds; undefined for a naive datetime */
  offsetMicros?: number;
}

const pad = (n: number, w: number): string => String(n).padStart(w, "0");

function daysInMonth(y: number, m: number): number {
  return [31, y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1];
}

/** Parses HH[:MM[:SS[.ffffff]]] (or the basic forms without colons); undefined when malformed. */
function parseTime(t: string): { h: number; mi: number; s: number; us: number } | undefined {
  const m = /^(\d{2})(?:(:?)(\d{2})(?:\2(\d{2})(?:[.,](\d+))?)?)?$/.exec(t);
  if (m === null) return undefined;
  const h = Number(m[1]);
  const mi = m[3] === undefined ? 0 : Number(m[3]);
  const s = m[4] === undefined ? 0 : Number(m[4]);
  let us = 0;
  if (m[5] !== undefined) us = Number(m[5].slice(0, 6).padEnd(6, "0"));
  if (h > 23 || mi > 59 || s > 59) return undefined;
  return { h, mi, s, us };
}

/**
 * datetime.fromisoformat as in CPython 3.11+ (what the script runs on):
 * YYYY-MM-DD or YYYYMMDD, optionally one separator character and a time
 * HH[:MM[:SS[.f...]]], optionally Z or ±HH[:MM[:SS[.ffffff]]].
 */
export function parseIsoDateTime(text: string): PyDateTime | undefined {
  const dm = /^(\d{4})-?(\d{2})-?(\d{2})/.exec(text);
  if (dm === null) return undefined;
  const dateLen = dm[0].length;
  if (dateLen !== 8 && dateLen !== 10) return undefined;
  const year = Number(dm[1]);
  const month = Number(dm[2]);
  const day = Number(dm[3]);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  const dt: PyDateTime = { year, month, day, hour: 0, minute: 0, second: 0, microsecond: 0 };
  let rest = text.slice(dateLen);
  if (rest === "") return dt;
  rest = rest.slice(1); // any single separator character
  const tz = /([Zz]|[+-].*)$/.exec(rest);
  const timePart = tz === null ? rest : rest.slice(0, tz.index);
  const time = parseTime(timePart);
  if (time === undefined) return undefined;
  dt.hour = time.h;
  dt.minute = time.mi;
  dt.second = time.s;
  dt.microsecond = time.us;
  if (tz !== null) {
    if (tz[1] === "Z" || tz[1] === "z") dt.offsetMicros = 0;
    else {
      const off = parseTime(tz[1].slice(1));
      if (off === undefined) return undefined;
      const micros = ((off.h * 60 + off.mi) * 60 + off.s) * 1e6 + off.us;
      if (micros >= 86400e6) return undefined;
      dt.offsetMicros = tz[1][0] === "-" ? -micros : micros;
    }
  }
  return dt;
}

/** datetime.isoformat(). */
export function isoFormat(dt: PyDateTime): string {
  let s = `${pad(dt.year, 4)}-${pad(dt.month, 2)}-${pad(dt.day, 2)}T${pad(dt.hour, 2)}:${pad(dt.minute, 2)}:${pad(dt.second, 2)}`;
  if (dt.microsecond !== 0) s += "." + pad(dt.microsecond, 6);
  if (dt.offsetMicros !== undefined) {
    const o = Math.abs(dt.offsetMicros);
    const us = o % 1e6;
    const secs = Math.floor(o / 1e6);
    s += (dt.offsetMicros < 0 ? "-" : "+") + pad(Math.floor(secs / 3600), 2) + ":" + pad(Math.floor(secs / 60) % 60, 2);
    if (secs % 60 !== 0 || us !== 0) s += ":" + pad(secs % 60, 2);
    if (us !== 0) s += "." + pad(us, 6);
  }
  return s;
}

/** int(dt.timestamp()): aware datetimes exactly, naive ones as local time (like Python, through the TZ setting). */
export function pyTimestamp(dt: PyDateTime): number {
  if (dt.offsetMicros !== undefined) {
    const days = BigInt(Date.UTC(dt.year, dt.month - 1, dt.day) / 86400000);
    const utcMicros =
      (((days * 24n + BigInt(dt.hour)) * 60n + BigInt(dt.minute)) * 60n + BigInt(dt.second)) * 1000000n + BigInt(dt.microsecond) - BigInt(dt.offsetMicros);
    // int() truncates toward zero (BigInt division does too)
    return Number(utcMicros / 1000000n);
  }
  const d = new Date(2000, 0, 1);
  d.setFullYear(dt.year, dt.month - 1, dt.day);
  d.setHours(dt.hour, dt.minute, dt.second, 0);
  const secs = d.getTime() / 1000;
  return secs < 0 && dt.microsecond > 0 ? secs + 1 : secs;
}

/** datetime.now(tz=timezone.utc). */
export function pyNowUtc(now = new Date()): PyDateTime {
  return {
    year: now.getUTCFullYear(),
    month: now.getUTCMonth() + 1,
    day: now.getUTCDate(),
    hour: now.getUTCHours(),
    minute: now.getUTCMinutes(),
    second: now.getUTCSeconds(),
    microsecond: now.getUTCMilliseconds() * 1000,
    offsetMicros: 0,
  };
}

/** int(x) for a JSON value the way the script calls it on uid/gid: ints, and strings of an integer (whitespace and _ allowed). */
export function pyInt(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isInteger(value) ? value : Math.trunc(value);
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value !== "string") return undefined;
  const t = value.trim();
  if (!/^[+-]?\d+(?:_\d+)*$/.test(t)) return undefined;
  const n = Number(t.replace(/_/g, ""));
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Python's str.isprintable() for one code point (approximated with Unicode property escapes). */
function isPrintable(ch: string): boolean {
  if (ch === " ") return true;
  return !/[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zs}\p{Zl}\p{Zp}]/u.test(ch);
}

/** repr() of a Python str. */
export function pyRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (let i = 0; i < s.length;) {
    const cp = s.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    i += ch.length;
    if (ch === quote || ch === "\\") out += "\\" + ch;
    else if (ch === "\t") out += "\\t";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (cp < 0x20 || cp === 0x7f) out += "\\x" + cp.toString(16).padStart(2, "0");
    else if (cp < 0x7f) out += ch;
    else if (isPrintable(ch)) out += ch;
    else if (cp <= 0xff) out += "\\x" + cp.toString(16).padStart(2, "0");
    else if (cp <= 0xffff) out += "\\u" + cp.toString(16).padStart(4, "0");
    else out += "\\U" + cp.toString(16).padStart(8, "0");
  }
  return out + quote;
}

/** repr() of a list of str: ['a', 'b']. */
export function pyReprList(items: readonly string[]): string {
  return "[" + items.map(pyRepr).join(", ") + "]";
}
