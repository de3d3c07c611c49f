import { describe, expect, it } from '@jest/globals';
import { KeyNameSchema } from './management.js';

describe('KeyNameSchema', () => {
  it('keeps ordinary names in any script, trimmed', () => {
    for (const name of ['Zapier', '  Make.com integration ', 'Ünïcödé – ok', '日本語のキー', 'مفتاح', '🔑 prod key', 'a'.repeat(64)]) {
      expect(KeyNameSchema.safeParse(name)).toEqual({ success: true, data: name.trim() });
    }
  });

  it('refuses control, bidirectional, zero-width and other format characters, lone surrogates and unassigned code points', () => {
    const hidden = {
      NUL: '\u0000',
      'line feed': '\n',
      escape: '\u001b',
      DEL: '\u007f',
      'C1 control': '\u0085',
      'right-to-left override': '\u202e',
      'left-to-right embedding': '\u202a',
      'right-to-left isolate': '\u2067',
      'left-to-right mark': '\u200e',
      'arabic letter mark': '\u061c',
      'zero-width space': '\u200b',
      'zero-width non-joiner': '\u200c',
      'zero-width joiner': '\u200d',
      'word joiner': '\u2060',
      'byte order mark': '\ufeff',
      'soft hyphen': '\u00ad',
      'line separator': '\u2028',
      'paragraph separator': '\u2029',
      'lone surrogate': '\ud800',
      'unassigned (U+0378)': '\u0378',
      'unassigned plane 3 (U+3FFFD)': '\u{3fffd}',
      'noncharacter (U+FFFF)': '\uffff',
    };
    for (const [label, character] of Object.entries(hidden)) {
      expect([label, KeyNameSchema.safeParse(`prod${character}key`).success]).toEqual([label, false]);
    }
    // Spoofing a file-like name: "invoice‮fdp.exe" shows as "invoiceexe.pdf".
    expect(KeyNameSchema.safeParse('invoice\u202efdp.exe').success).toBe(false);
  });

  it('still refuses empty, blank and over-long names', () => {
    for (const name of ['', '   ', 'a'.repeat(65)]) expect(KeyNameSchema.safeParse(name).success).toBe(false);
  });
});
