// The options of the iptables command itself (not of extensions), as getopt_long sees them in
// iptables 1.8.9: long names, short letters and whether they take an argument.
import { dict } from '../../model/dict';

export interface BuiltinOpt {
  letter: string;
  /** 0: none, 1: required, 2: optional (only attached, `-Fchain`). */
  arg: 0 | 1 | 2;
}

export const LONG_BUILTINS = dict<BuiltinOpt>({
  append: { letter: 'A', arg: 1 }, delete: { letter: 'D', arg: 1 }, check: { letter: 'C', arg: 1 },
  insert: { letter: 'I', arg: 1 }, replace: { letter: 'R', arg: 1 }, list: { letter: 'L', arg: 2 },
  'list-rules': { letter: 'S', arg: 2 }, flush: { letter: 'F', arg: 2 }, zero: { letter: 'Z', arg: 2 },
  'new-chain': { letter: 'N', arg: 1 }, 'delete-chain': { letter: 'X', arg: 2 }, 'rename-chain': { letter: 'E', arg: 1 },
  policy: { letter: 'P', arg: 1 }, source: { letter: 's', arg: 1 }, destination: { letter: 'd', arg: 1 },
  src: { letter: 's', arg: 1 }, dst: { letter: 'd', arg: 1 }, protocol: { letter: 'p', arg: 1 },
  'in-interface': { letter: 'i', arg: 1 }, jump: { letter: 'j', arg: 1 }, table: { letter: 't', arg: 1 },
  match: { letter: 'm', arg: 1 }, numeric: { letter: 'n', arg: 0 }, 'out-interface': { letter: 'o', arg: 1 },
  verbose: { letter: 'v', arg: 0 }, wait: { letter: 'w', arg: 2 }, 'wait-interval': { letter: 'W', arg: 2 },
  exact: { letter: 'x', arg: 0 }, fragments: { letter: 'f', arg: 0 }, version: { letter: 'V', arg: 0 },
  help: { letter: 'h', arg: 2 }, 'line-numbers': { letter: '0', arg: 0 }, modprobe: { letter: 'M', arg: 1 },
  'set-counters': { letter: 'c', arg: 1 }, goto: { letter: 'g', arg: 1 }, ipv4: { letter: '4', arg: 0 },
  ipv6: { letter: '6', arg: 0 },
});
export const LONG_BUILTIN_NAMES = Object.keys(LONG_BUILTINS);

// IPT_OPTSTRING of iptables 1.8.9: "-:A:C:D:R:I:L::S::M:F::Z::N:X::E:P:Vh::o:p:s:d:j:i:fbvw::W::nt:m:xc:g:46"
export const SHORT = dict<0 | 1 | 2>({
  A: 1, C: 1, D: 1, R: 1, I: 1, L: 2, S: 2, M: 1, F: 2, Z: 2, N: 1, X: 2, E: 1, P: 1, V: 0, h: 2, o: 1, p: 1,
  s: 1, d: 1, j: 1, i: 1, f: 0, b: 0, v: 0, w: 2, W: 2, n: 0, t: 1, m: 1, x: 0, c: 1, g: 1, '4': 0, '6': 0,
});

export const COMMAND_LETTERS = 'ACDRILSFZNXEP';
export const BUILTIN_NAMES = dict<string>({
  s: 'source', d: 'destination', p: 'protocol', i: 'in-interface', o: 'out-interface', f: 'fragments',
});


export const BIT_C = 1 << 6;
/** A bit per rule option letter, for "given twice" checks. */
export function builtinBit(letter: string): number {
  switch (letter) {
    case 's': return 1;
    case 'd': return 2;
    case 'p': return 4;
    case 'i': return 8;
    case 'o': return 16;
    case 'f': return 32;
    default: return BIT_C;
  }
}
