/**
 * The subset of Go's text/template language that GoTrue mail templates use, so a GoTrue user's templates render
 * unchanged: `{{ .Field }}`, `{{ .Data.key }}`, `{{ . }}`, trim markers `{{-` / `-}}`, comments, `if` / `else if` /
 * `else` / `end`, `with`, and the functions eq, ne, lt, le, gt, ge, not, and, or, len, index, urlquery, html,
 * with parentheses and `|` pipes. Values are escaped by the caller's escape function (HTML for the HTML part).
 * A missing field renders as empty text instead of failing the send.
 */

export class TemplateError extends Error {
  override name = 'TemplateError';
}

type Expr =
  | { t: 'field'; path: string[] }
  | { t: 'lit'; value: unknown }
  | { t: 'call'; fn: string; args: Expr[] };

type Node =
  | { t: 'text'; text: string }
  | { t: 'out'; expr: Expr }
  | { t: 'if'; branches: { cond: Expr; body: Node[] }[]; otherwise: Node[] }
  | { t: 'with'; expr: Expr; body: Node[]; otherwise: Node[] };

export interface CompiledTemplate {
  render(data: Record<string, unknown>, escape: (s: string) => string): string;
}

const FUNCS = new Set(['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'not', 'and', 'or', 'len', 'index', 'urlquery', 'html']);

/** Splits the source into text and `{{ action }}` pieces, applying the trim markers. */
function lex(src: string): ({ t: 'text'; text: string } | { t: 'action'; body: string })[] {
  const out: ({ t: 'text'; text: string } | { t: 'action'; body: string })[] = [];
  let i = 0;
  let trimNext = false;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    let text = open === -1 ? src.slice(i) : src.slice(i, open);
    if (trimNext) text = text.replace(/^\s+/, '');
    if (open === -1) {
      if (text) out.push({ t: 'text', text });
      break;
    }
    let start = open + 2;
    if (src.startsWith('- ', start) || src.startsWith('-\t', start) || src.startsWith('-\n', start)) {
      text = text.replace(/\s+$/, '');
      start += 1;
    }
    if (text) out.push({ t: 'text', text });
    const close = findClose(src, start);
    if (close === -1) throw new TemplateError('unclosed action: missing "}}"');
    let body = src.slice(start, close);
    trimNext = false;
    if (/\s-$/.test(body)) {
      body = body.slice(0, -1);
      trimNext = true;
    }
    out.push({ t: 'action', body: body.trim() });
    i = close + 2;
  }
  return out;
}

/** The "}}" closing an action, skipping any inside string literals. */
function findClose(src: string, from: number): number {
  for (let i = from; i < src.length; i++) {
    const c = src[i];
    if (c === '"' || c === '`') {
      const end = c === '"' ? /"(?:[^"\\\n]|\\.)*"/y : /`[^`]*`/y;
      end.lastIndex = i;
      const m = end.exec(src);
      if (!m) return -1;
      i += m[0].length - 1;
    } else if (c === '}' && src[i + 1] === '}') return i;
  }
  return -1;
}

/** Tokens of one action: words, field chains, literals, parentheses and pipes. */
function tokenize(body: string): string[] {
  const re = /\s*("(?:[^"\\]|\\.)*"|`[^`]*`|\(|\)|\||[^\s()|]+)/y;
  const tokens: string[] = [];
  let m: RegExpExecArray | null;
  while (re.lastIndex < body.length && (m = re.exec(body))) tokens.push(m[1]!);
  if (body.slice(re.lastIndex).trim() !== '') throw new TemplateError(`cannot read "${body}"`);
  return tokens;
}

function parseExpr(body: string): Expr {
  const tokens = tokenize(body);
  let pos = 0;
  const peek = () => tokens[pos];

  const operand = (): Expr => {
    const tok = tokens[pos++];
    if (tok === undefined) throw new TemplateError(`missing value in "${body}"`);
    if (tok === '(') {
      const e = pipeline();
      if (tokens[pos++] !== ')') throw new TemplateError(`unclosed "(" in "${body}"`);
      return e;
    }
    if (tok.startsWith('"')) return { t: 'lit', value: JSON.parse(tok) as string };
    if (tok.startsWith('`')) return { t: 'lit', value: tok.slice(1, -1) };
    if (tok === '.') return { t: 'field', path: [] };
    if (tok.startsWith('.')) return { t: 'field', path: tok.slice(1).split('.') };
    if (tok === 'true' || tok === 'false') return { t: 'lit', value: tok === 'true' };
    if (tok === 'nil') return { t: 'lit', value: undefined };
    if (/^-?\d+(\.\d+)?$/.test(tok)) return { t: 'lit', value: Number(tok) };
    if (FUNCS.has(tok)) return { t: 'call', fn: tok, args: [] };
    throw new TemplateError(`function "${tok}" not defined`);
  };

  /** A command: a function with arguments, or a single operand. */
  const command = (): Expr => {
    const first = operand();
    if (first.t !== 'call') return first;
    while (pos < tokens.length && peek() !== ')' && peek() !== '|') first.args.push(operand());
    return first;
  };

  const pipeline = (): Expr => {
    let e = command();
    while (peek() === '|') {
      pos++;
      const next = command();
      if (next.t !== 'call') throw new TemplateError(`non-function after "|" in "${body}"`);
      next.args.push(e);
      e = next;
    }
    return e;
  };

  const e = pipeline();
  if (pos !== tokens.length) throw new TemplateError(`unexpected "${tokens[pos]}" in "${body}"`);
  return e;
}

/** Parses the action list into a tree of if/with blocks. */
function parse(src: string): Node[] {
  const items = lex(src);
  let pos = 0;
  const block = (inside: string | undefined): { nodes: Node[]; end: 'end' | 'else' | 'elseif' | 'eof'; cond?: Expr } => {
    const nodes: Node[] = [];
    while (pos < items.length) {
      const it = items[pos++]!;
      if (it.t === 'text') {
        nodes.push(it);
        continue;
      }
      const body = it.body;
      if (body.startsWith('/*')) {
        if (!body.endsWith('*/')) throw new TemplateError('unclosed comment');
        continue;
      }
      const [word] = body.split(/\s+/, 1);
      if (word === 'end' || word === 'else') {
        if (!inside) throw new TemplateError(`unexpected {{${body}}}`);
        if (word === 'end') return { nodes, end: 'end' };
        const rest = body.slice(4).trim();
        if (rest === '') return { nodes, end: 'else' };
        if (!rest.startsWith('if ')) throw new TemplateError(`unexpected {{${body}}}`);
        return { nodes, end: 'elseif', cond: parseExpr(rest.slice(3)) };
      }
      if (word === 'if' || word === 'with') {
        const first = parseExpr(body.slice(word.length));
        const branches = [{ cond: first, body: [] as Node[] }];
        let otherwise: Node[] = [];
        for (;;) {
          const r = block(word);
          branches[branches.length - 1]!.body = r.nodes;
          if (r.end === 'eof') throw new TemplateError(`unclosed {{${word}}}: missing {{end}}`);
          if (r.end === 'end') break;
          if (r.end === 'elseif') {
            if (word === 'with') throw new TemplateError('{{else if}} inside {{with}}');
            branches.push({ cond: r.cond!, body: [] });
            continue;
          }
          const last = block(word);
          if (last.end !== 'end') throw new TemplateError(`{{else}} must be followed by {{end}}`);
          otherwise = last.nodes;
          break;
        }
        nodes.push(word === 'if' ? { t: 'if', branches, otherwise } : { t: 'with', expr: first, body: branches[0]!.body, otherwise });
        continue;
      }
      if (['range', 'define', 'template', 'block'].includes(word!)) throw new TemplateError(`{{${word}}} is not supported in mail templates`);
      nodes.push({ t: 'out', expr: parseExpr(body) });
    }
    return { nodes, end: 'eof' };
  };
  const r = block(undefined);
  return r.nodes;
}

/** Go's notion of an empty (false) value. */
function truthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

function text(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

const htmlEscape = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' })[c]!);

function lookup(dot: unknown, path: string[]): unknown {
  let v = dot;
  for (const key of path) {
    if (v === null || typeof v !== 'object' || !Object.prototype.hasOwnProperty.call(v, key)) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

function evaluate(e: Expr, dot: unknown): unknown {
  if (e.t === 'lit') return e.value;
  if (e.t === 'field') return lookup(dot, e.path);
  const args = e.args.map((a) => evaluate(a, dot));
  const [a, b] = args;
  const cmp = (f: (x: number | string, y: number | string) => boolean) => {
    if (args.length !== 2) throw new TemplateError(`${e.fn} needs two arguments`);
    return f(a as number | string, b as number | string);
  };
  switch (e.fn) {
    case 'eq':
      if (args.length < 2) throw new TemplateError('eq needs at least two arguments');
      return args.slice(1).some((x) => x === a);
    case 'ne':
      return cmp((x, y) => x !== y);
    case 'lt':
      return cmp((x, y) => x < y);
    case 'le':
      return cmp((x, y) => x <= y);
    case 'gt':
      return cmp((x, y) => x > y);
    case 'ge':
      return cmp((x, y) => x >= y);
    case 'not':
      return !truthy(a);
    case 'and':
      return args.find((x) => !truthy(x)) ?? args[args.length - 1];
    case 'or':
      return args.find((x) => truthy(x)) ?? args[args.length - 1];
    case 'len':
      return typeof a === 'string' || Array.isArray(a) ? a.length : a && typeof a === 'object' ? Object.keys(a).length : 0;
    case 'index':
      return args.slice(1).reduce((v, k) => lookup(v, [text(k)]), a);
    case 'urlquery':
      return encodeURIComponent(args.map(text).join('')).replace(/%20/g, '+');
    case 'html':
      return htmlEscape(args.map(text).join(''));
    default:
      throw new TemplateError(`function "${e.fn}" not defined`);
  }
}

function run(nodes: Node[], dot: unknown, escape: (s: string) => string): string {
  let out = '';
  for (const n of nodes) {
    if (n.t === 'text') out += n.text;
    else if (n.t === 'out') out += escape(text(evaluate(n.expr, dot)));
    else if (n.t === 'if') {
      const hit = n.branches.find((br) => truthy(evaluate(br.cond, dot)));
      out += run(hit ? hit.body : n.otherwise, dot, escape);
    } else {
      const v = evaluate(n.expr, dot);
      out += truthy(v) ? run(n.body, v, escape) : run(n.otherwise, dot, escape);
    }
  }
  return out;
}

/** Compiles a template; throws TemplateError on a syntax error, so a bad custom template is caught at load. */
export function compileGoTemplate(src: string): CompiledTemplate {
  const nodes = parse(src);
  return { render: (data, escape) => run(nodes, data, escape) };
}

/** HTML escaping as Go's html/template applies it to interpolated values. */
export const escapeHtml = htmlEscape;
export const noEscape = (s: string) => s;
