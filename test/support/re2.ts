// Kubernetes validates CRD `pattern`s with Go's RE2, and a few upstream CRDs use RE2 syntax that
// JavaScript's RegExp rejects (cilium `^\PC*$`, ZTWIM `^(?i)https?://...`). Dropping such a
// pattern would silently weaken the schema check, so this translates the RE2 constructs that have
// an exact (or stricter) JavaScript equivalent and throws on everything else.
//
// Known, accepted difference: Go's `\pC` is Cc|Cf|Co|Cs while JavaScript's `\p{C}` also contains Cn
// (unassigned code points), so `\PC` rejects unassigned code points that Go would accept.
import type { CodeOptions } from "ajv";

export interface TranslatedPattern {
  readonly source: string;
  readonly flags: string;
}

export class Re2TranslationError extends Error {
  constructor(pattern: string, detail: string) {
    super(`RE2 pattern ${JSON.stringify(pattern)} has no JavaScript translation: ${detail}`);
    this.name = "Re2TranslationError";
  }
}

// Unicode general categories: JavaScript accepts these bare; any other RE2 class name is a script.
const GENERAL_CATEGORIES = new Set([
  "C", "Cc", "Cf", "Cn", "Co", "Cs",
  "L", "Ll", "Lm", "Lo", "Lt", "Lu",
  "M", "Mc", "Me", "Mn",
  "N", "Nd", "Nl", "No",
  "P", "Pc", "Pd", "Pe", "Pf", "Pi", "Po", "Ps",
  "S", "Sc", "Sk", "Sm", "So",
  "Z", "Zl", "Zp", "Zs",
  "Any",
]);

// RE2 POSIX classes (ASCII only), as class-body fragments.
const POSIX_CLASSES: Readonly<Record<string, string>> = {
  alnum: "0-9A-Za-z",
  alpha: "A-Za-z",
  ascii: "\\x00-\\x7F",
  blank: "\\t ",
  cntrl: "\\x00-\\x1F\\x7F",
  digit: "0-9",
  graph: "!-~",
  lower: "a-z",
  print: " -~",
  punct: "!-\\/:-@\\[-`{-~",
  space: "\\t\\n\\v\\f\\r ",
  upper: "A-Z",
  word: "0-9A-Za-z_",
  xdigit: "0-9A-Fa-f",
};

// Characters that may (and sometimes must) be escaped with a backslash in a `u`-flag RegExp.
const JS_SYNTAX = new Set("^$\\.*+?()[]{}|/".split(""));
const JS_CLASS_ESCAPABLE = new Set("^$\\.*+?()[]{}|/-".split(""));

function escapeLiteral(ch: string, inClass: boolean): string {
  return (inClass ? JS_CLASS_ESCAPABLE : JS_SYNTAX).has(ch) ? `\\${ch}` : ch;
}

function codePointEscape(cp: number): string {
  return `\\u{${cp.toString(16).toUpperCase()}}`;
}

function unicodeClass(pattern: string, negated: boolean, name: string): string {
  let n = name;
  let neg = negated;
  if (n.startsWith("^")) {
    neg = !neg;
    n = n.slice(1);
  }
  if (!/^[A-Za-z_]+$/.test(n)) throw new Re2TranslationError(pattern, `bad Unicode class name "${name}"`);
  const property = GENERAL_CATEGORIES.has(n) ? n : `Script=${n}`;
  return `\\${neg ? "P" : "p"}{${property}}`;
}

/** Translates one RE2 pattern to a JavaScript source + flags meant for a `u`-flag RegExp. */
export function translateRe2(pattern: string): TranslatedPattern {
  const flags = new Set<string>();
  let out = "";
  let i = 0;
  // Leading flag groups, before or after a leading anchor: `(?i)^x`, `^(?i)x`.
  for (;;) {
    if (pattern.startsWith("^", i)) {
      out += "^";
      i += 1;
      continue;
    }
    const m = /^\(\?([A-Za-z]+)\)/.exec(pattern.slice(i));
    if (!m) break;
    for (const f of m[1]) {
      if (f === "i" || f === "m" || f === "s") flags.add(f);
      else throw new Re2TranslationError(pattern, `flag "${f}" is not supported`);
    }
    i += m[0].length;
  }

  let inClass = false;
  let classBodyStart = -1;
  while (i < pattern.length) {
    const ch = pattern[i];
    if (ch === "\\") {
      const [text, next] = translateEscape(pattern, i, inClass);
      out += text;
      i = next;
      continue;
    }
    if (inClass) {
      if (ch === "]" && i !== classBodyStart) {
        inClass = false;
        out += "]";
        i += 1;
        continue;
      }
      if (ch === "[" && pattern[i + 1] === ":") {
        const m = /^\[:(\^?)([a-z]+):\]/.exec(pattern.slice(i));
        if (m) {
          if (m[1] === "^") throw new Re2TranslationError(pattern, `negated POSIX class [:^${m[2]}:] is not supported`);
          const body = POSIX_CLASSES[m[2]];
          if (body === undefined) throw new Re2TranslationError(pattern, `unknown POSIX class [:${m[2]}:]`);
          out += body;
          i += m[0].length;
          continue;
        }
      }
      // A `]` first in an RE2 class is a literal; in JavaScript it would close an empty class.
      out += ch === "]" || ch === "[" ? `\\${ch}` : ch;
      i += 1;
      continue;
    }
    if (ch === "[") {
      inClass = true;
      out += "[";
      i += 1;
      if (pattern[i] === "^") {
        out += "^";
        i += 1;
      }
      classBodyStart = i;
      continue;
    }
    if (ch === "(" && pattern[i + 1] === "?") {
      const rest = pattern.slice(i);
      if (rest.startsWith("(?P<")) {
        out += "(?<";
        i += 4;
        continue;
      }
      const m = /^\(\?([A-Za-z-]*)(:|\))/.exec(rest);
      if (m && m[1] !== "") {
        if (m[2] === ")") throw new Re2TranslationError(pattern, `flag group ${m[0]} is only supported at the start`);
        if (!/^[ims]*(-[ims]+)?$/.test(m[1])) throw new Re2TranslationError(pattern, `flag group ${m[0]} is not supported`);
      }
      out += "(?";
      i += 2;
      continue;
    }
    if (ch === "{") {
      const m = /^\{\d+(,\d*)?\}/.exec(pattern.slice(i));
      if (m) {
        out += m[0];
        i += m[0].length;
      } else {
        // RE2 reads a `{` that does not start a repetition as a literal; a `u` RegExp rejects it.
        out += "\\{";
        i += 1;
      }
      continue;
    }
    if (ch === "}" || ch === "]") {
      out += `\\${ch}`;
      i += 1;
      continue;
    }
    out += ch;
    i += 1;
  }
  if (inClass) throw new Re2TranslationError(pattern, "unterminated character class");
  return { source: out, flags: [...flags].sort().join("") };
}

function translateEscape(pattern: string, start: number, inClass: boolean): [string, number] {
  const c = pattern[start + 1];
  if (c === undefined) throw new Re2TranslationError(pattern, "trailing backslash");
  const after = start + 2;
  if (c === "p" || c === "P") {
    if (pattern[after] === "{") {
      const close = pattern.indexOf("}", after);
      if (close < 0) throw new Re2TranslationError(pattern, "unterminated \\p{...}");
      return [unicodeClass(pattern, c === "P", pattern.slice(after + 1, close)), close + 1];
    }
    const letter = pattern[after];
    if (letter === undefined || !/[A-Za-z]/.test(letter)) throw new Re2TranslationError(pattern, `bad \\${c} class`);
    return [unicodeClass(pattern, c === "P", letter), after + 1];
  }
  if (c === "Q") {
    const end = pattern.indexOf("\\E", after);
    const literal = end < 0 ? pattern.slice(after) : pattern.slice(after, end);
    const text = [...literal].map((ch) => escapeLiteral(ch, inClass)).join("");
    return [text, end < 0 ? pattern.length : end + 2];
  }
  if (c === "E") return ["", after]; // a stray \E is ignored by RE2
  if (c === "x") {
    if (pattern[after] === "{") {
      const close = pattern.indexOf("}", after);
      const hex = close < 0 ? "" : pattern.slice(after + 1, close);
      if (!/^[0-9A-Fa-f]{1,6}$/.test(hex)) throw new Re2TranslationError(pattern, "bad \\x{...} escape");
      return [codePointEscape(parseInt(hex, 16)), close + 1];
    }
    const hex = pattern.slice(after, after + 2);
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw new Re2TranslationError(pattern, "bad \\x escape");
    return [`\\x${hex}`, after + 2];
  }
  if (/[0-7]/.test(c)) {
    const m = /^[0-7]{1,3}/.exec(pattern.slice(start + 1));
    const digits = m ? m[0] : c;
    if (c !== "0" && digits.length === 1) throw new Re2TranslationError(pattern, `backreference \\${c} is not RE2 syntax`);
    return [codePointEscape(parseInt(digits, 8)), start + 1 + digits.length];
  }
  if (c === "z" || c === "A") {
    if (inClass) throw new Re2TranslationError(pattern, `\\${c} inside a character class`);
    // Exact in every flag mode, unlike `$`/`^` under the `m` flag.
    return [c === "z" ? "(?![\\s\\S])" : "(?<![\\s\\S])", after];
  }
  if (c === "a") return ["\\x07", after];
  if ("dDsSwWfnrtv".includes(c)) return [`\\${c}`, after];
  if (c === "b" || c === "B") {
    if (inClass) throw new Re2TranslationError(pattern, `\\${c} inside a character class`);
    return [`\\${c}`, after];
  }
  if (/[!-/:-@[-`{-~]/.test(c)) return [escapeLiteral(c, inClass), after];
  throw new Re2TranslationError(pattern, `escape \\${c} is not supported`);
}

const compiled = new Map<string, RegExp>();

/** A RegExp that behaves like the RE2 pattern; throws Re2TranslationError / SyntaxError when it cannot. */
export function re2RegExp(pattern: string, extraFlags = "u"): RegExp {
  const key = `${extraFlags}\u0000${pattern}`;
  const hit = compiled.get(key);
  if (hit) return hit;
  const t = translateRe2(pattern);
  const flags = [...new Set((extraFlags + t.flags).split(""))].sort().join("");
  let rx: RegExp;
  try {
    rx = new RegExp(t.source, flags);
  } catch (e) {
    throw new Re2TranslationError(pattern, `translated to /${t.source}/${flags}, which JavaScript rejects: ${(e as Error).message}`);
  }
  compiled.set(key, rx);
  return rx;
}

/** ajv `code.regExp` engine: every `pattern` keyword goes through the RE2 translation. */
export const re2Engine: NonNullable<CodeOptions["regExp"]> = Object.assign(
  (pattern: string, u: string): RegExp => re2RegExp(pattern, u),
  { code: "re2RegExp" },
);
