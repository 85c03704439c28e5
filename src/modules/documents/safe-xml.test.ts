import { describe, it, expect } from 'vitest';
import { AppError } from '../../errors.ts';
import { assertSafeXml, type SafeXmlOptions } from './safe-xml.ts';

function catchAppError(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('expected an AppError, nothing was thrown');
}

describe('assertSafeXml', () => {
  const refused: Array<[string, string, RegExp, SafeXmlOptions?]> = [
    ['DOCTYPE', '<!DOCTYPE a><a/>', /DOCTYPE/],
    ['lower-case doctype', '<?xml version="1.0"?><!doctype a><a/>', /DOCTYPE/],
    ['doctype with inner whitespace', '<! \n DocType a><a/>', /DOCTYPE/],
    ['entity without doctype', '<a><!ENTITY x "y"></a>', /ENTITY/],
    ['parameter entity', '<!ENTITY % p SYSTEM "http://evil/x.dtd"><a/>', /ENTITY/],
    ['doctype hidden in a comment', '<a><!-- <!DOCTYPE a> --></a>', /DOCTYPE/],
    ['doctype hidden in CDATA', '<a><![CDATA[<!DOCTYPE a>]]></a>', /DOCTYPE/],
    ['ELEMENT declaration', '<!ELEMENT a ANY><a/>', /markup declarations .*<!ELEMENT/],
    ['ATTLIST declaration', '<a/><!ATTLIST a b CDATA "">', /<!ATTLIST/],
    ['unknown PI', '<?xml version="1.0"?><?php echo 1; ?><a/>', /<\?php\?>/],
    [
      'oxygen PI when not allowed',
      '<?xml version="1.0"?><?oxygen SCHSchema="x.sch"?><a/>',
      /<\?oxygen\?>/,
      { allowedProcessingInstructions: ['xml-stylesheet'] },
    ],
    ['PI inside the document', '<a><?evil x?></a>', /<\?evil\?>/],
    ['stylesheet PI in other case', '<?XML-STYLESHEET href="x"?><a/>', /XML-STYLESHEET/],
    ['PI without target', '<? xml version="1.0"?><a/>', /without a target/],
    ['declaration not at the start', '\n<?xml version="1.0"?><a/>', /only allowed at the very start/],
    [
      'second declaration',
      '<?xml version="1.0"?><a><?xml version="1.0"?></a>',
      /only allowed at the very start/,
    ],
    ['upper-case declaration', '<?XML version="1.0"?><a/>', /only allowed at the very start/],
    ['UTF-16 declared', '<?xml version="1.0" encoding="UTF-16"?><a/>', /encoding 'UTF-16'/],
    ['utf-16 declared, single quotes', "<?xml version='1.0' encoding='utf-16'?><a/>", /encoding 'utf-16'/],
    ['Latin-1 declared', '<?xml version="1.0" encoding="ISO-8859-1"?><a/>', /encoding 'ISO-8859-1'/],
    ['NUL characters (UTF-16 read as UTF-8)', '<\u0000a\u0000/\u0000>\u0000', /NUL/],
    ['undecodable byte order mark', '\uFFFD\uFFFD<a/>', /byte order mark/],
  ];
  it.each(refused)('refuses %s', (_name, text, reason, options) => {
    const err = catchAppError(() => assertSafeXml(text, 'content', options));
    expect(err.code).toBe('invalid_input');
    expect(err.field).toBe('content');
    expect(err.message).toMatch(reason);
  });

  const accepted: Array<[string, string, SafeXmlOptions?]> = [
    ['bare element', '<a/>'],
    ['declaration UTF-8', '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><a/>'],
    ['declaration us-ascii', '<?xml version="1.0" encoding="us-ascii"?><a/>'],
    ['declaration without encoding', '<?xml version="1.0"?><a/>'],
    ['BOM then declaration', '\uFEFF<?xml version="1.0"?><a/>'],
    ['stylesheet PI', '<?xml version="1.0"?>\n<?xml-stylesheet type="text/xsl" href="cda.xsl"?>\n<a/>'],
    ['PI-looking text in a comment', '<a><!-- see <?php ?> --></a>'],
    ['PI-looking text in CDATA', '<a><![CDATA[ <?php ?> <!ELEMENT ]]></a>'],
    [
      'a configured extra PI',
      '<?oxygen SCHSchema="x.sch"?><a/>',
      { allowedProcessingInstructions: ['xml-stylesheet', 'oxygen'] },
    ],
  ];
  it.each(accepted)('accepts %s', (_name, text, options) => {
    expect(() => assertSafeXml(text, 'content', options)).not.toThrow();
  });

  it('refuses documents over the size limit as payload_too_large', () => {
    const err = catchAppError(() => assertSafeXml(`<a>${'x'.repeat(100)}</a>`, 'content', { maxBytes: 100 }));
    expect(err.code).toBe('payload_too_large');
    expect(err.message).toMatch(/too large \(107 bytes, at most 100/);
    expect(() => assertSafeXml('<a>é</a>', undefined, { maxBytes: 9 })).not.toThrow();
    expect(() => assertSafeXml('<a>é</a>', undefined, { maxBytes: 8 })).toThrow(/too large/);
  });
});
