import { ExpressionError, type BinaryOp, type Expr } from './syntax.ts';

/**
 * A hand-written recursive-descent parser for the expression language (grammar in docs/rules.md). It
 * never evaluates anything; it builds a syntax tree or throws an ExpressionError that says where and what
 * was expected. Precedence, loosest first: OR, AND, NOT, comparisons, + -, * / %, unary minus.
 */
type Token =
  | { type: 'number'; text: string; start: number; end: number }
  | { type: 'string'; value: string; start: number; end: number }
  | { type: 'temporal'; text: string; start: number; end: number }
  | { type: 'ident'; text: string; start: number; end: number }
  | { type: 'variable'; name: string; start: number; end: number }
  | { type: 'punct'; text: string; start: number; end: number }
  | { type: 'end'; start: number; end: number };

/** Nesting deeper than this is refused: no real expression needs it, and it bounds the recursion. */
const MAX_DEPTH = 64;
export const MAX_EXPRESSION_LENGTH = 10_000;

const PUNCTUATION = [
  '<=',
  '>=',
  '<>',
  '!=',
  '==',
  '(',
  ')',
  ',',
  '.',
  '+',
  '-',
  '*',
  '/',
  '%',
  '=',
  '<',
  '>',
];
const IDENT_START = /[A-Za-z_@]/;
const IDENT_PART = /[A-Za-z0-9_]/;
const KEYWORDS = new Set(['and', 'or', 'not', 'true', 'false', 'null']);

function describe(token: Token): string {
  switch (token.type) {
    case 'end':
      return 'the end of the expression';
    case 'number':
    case 'temporal':
    case 'ident':
    case 'punct':
      return `"${token.text}"`;
    case 'string':
      return 'a string';
    case 'variable':
      return `the variable ${token.name}`;
  }
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const fail = (at: number, message: string): never => {
    throw new ExpressionError(source, at, message);
  };
  while (i < source.length) {
    const ch = source[i]!;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const start = i;
    if (/[0-9]/.test(ch) || (ch === '.' && /[0-9]/.test(source[i + 1] ?? ''))) {
      const match = /^(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/.exec(source.slice(i))!;
      i += match[0].length;
      if (IDENT_START.test(source[i] ?? '')) fail(i, 'a number must not run into a name');
      tokens.push({ type: 'number', text: match[0], start, end: i });
      continue;
    }
    if (ch === "'" || ch === '"') {
      // Strings in single or double quotes; the quote doubled stands for itself.
      let value = '';
      i++;
      for (;;) {
        if (i >= source.length) fail(start, `unterminated string: add the closing ${ch}`);
        if (source[i] === ch) {
          if (source[i + 1] === ch) {
            value += ch;
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += source[i];
        i++;
      }
      tokens.push({ type: 'string', value, start, end: i });
      continue;
    }
    if (ch === '#') {
      const close = source.indexOf('#', i + 1);
      if (close < 0) fail(start, 'unterminated date: write it as #2026-03-01# or #2026-03-01T09:30:00Z#');
      tokens.push({ type: 'temporal', text: source.slice(i + 1, close), start, end: close + 1 });
      i = close + 1;
      continue;
    }
    if (ch === '$') {
      const match = /^\$\(\s*vars\/@([A-Za-z_][A-Za-z0-9_]*)\s*\)/.exec(source.slice(i));
      if (!match) fail(start, 'expected a variable written as $(vars/@name)');
      i += match![0].length;
      tokens.push({ type: 'variable', name: match![1]!, start, end: i });
      continue;
    }
    if (IDENT_START.test(ch)) {
      i++;
      while (i < source.length && IDENT_PART.test(source[i]!)) i++;
      const text = source.slice(start, i);
      if (text === '@') fail(start, 'expected a field name after @');
      tokens.push({ type: 'ident', text, start, end: i });
      continue;
    }
    const punct = PUNCTUATION.find((p) => source.startsWith(p, i));
    if (!punct) fail(start, `unexpected character "${ch}"`);
    i += punct!.length;
    tokens.push({ type: 'punct', text: punct!, start, end: i });
  }
  tokens.push({ type: 'end', start: source.length, end: source.length });
  return tokens;
}

class Parser {
  private index = 0;
  private depth = 0;

  constructor(
    private readonly source: string,
    private readonly tokens: Token[],
  ) {}

  private get token(): Token {
    return this.tokens[this.index]!;
  }

  private fail(token: Token, expected: string): never {
    throw new ExpressionError(this.source, token.start, `expected ${expected} but found ${describe(token)}`);
  }

  private isPunct(text: string): boolean {
    return this.token.type === 'punct' && this.token.text === text;
  }

  private isKeyword(word: string): boolean {
    return this.token.type === 'ident' && this.token.text.toLowerCase() === word;
  }

  private expectPunct(text: string, expected = `"${text}"`): Token {
    if (!this.isPunct(text)) this.fail(this.token, expected);
    return this.tokens[this.index++]!;
  }

  parseAll(): Expr {
    const expr = this.or();
    if (this.token.type !== 'end') this.fail(this.token, 'an operator or the end of the expression');
    return expr;
  }

  private nested<T>(parse: () => T): T {
    if (++this.depth > MAX_DEPTH) {
      throw new ExpressionError(this.source, this.token.start, `nesting deeper than ${MAX_DEPTH} levels`);
    }
    try {
      return parse();
    } finally {
      this.depth--;
    }
  }

  private binaryChain(next: () => Expr, operators: () => BinaryOp | undefined): Expr {
    let left = next();
    for (let op = operators(); op; op = operators()) {
      this.index++;
      const right = next();
      left = { kind: 'binary', op, left, right, start: left.start, end: right.end };
    }
    return left;
  }

  private or(): Expr {
    return this.binaryChain(
      () => this.and(),
      () => (this.isKeyword('or') ? 'or' : undefined),
    );
  }

  private and(): Expr {
    return this.binaryChain(
      () => this.not(),
      () => (this.isKeyword('and') ? 'and' : undefined),
    );
  }

  private not(): Expr {
    if (!this.isKeyword('not')) return this.comparison();
    const start = this.token.start;
    this.index++;
    const arg = this.nested(() => this.not());
    return { kind: 'unary', op: 'not', arg, start, end: arg.end };
  }

  private comparison(): Expr {
    const left = this.additive();
    const token = this.token;
    if (token.type !== 'punct') return left;
    const op = (
      { '=': '=', '==': '=', '<>': '<>', '!=': '<>', '<': '<', '<=': '<=', '>': '>', '>=': '>=' } as const
    )[token.text as '='] as BinaryOp | undefined;
    if (!op) return left;
    this.index++;
    const right = this.additive();
    if (
      this.token.type === 'punct' &&
      ['=', '==', '<>', '!=', '<', '<=', '>', '>='].includes(this.token.text)
    ) {
      this.fail(this.token, 'AND or OR between two comparisons');
    }
    return { kind: 'binary', op, left, right, start: left.start, end: right.end };
  }

  private additive(): Expr {
    return this.binaryChain(
      () => this.multiplicative(),
      () => (this.isPunct('+') ? '+' : this.isPunct('-') ? '-' : undefined),
    );
  }

  private multiplicative(): Expr {
    return this.binaryChain(
      () => this.unary(),
      () => (this.isPunct('*') ? '*' : this.isPunct('/') ? '/' : this.isPunct('%') ? '%' : undefined),
    );
  }

  private unary(): Expr {
    if (!this.isPunct('-')) return this.primary();
    const start = this.token.start;
    this.index++;
    const arg = this.nested(() => this.unary());
    return { kind: 'unary', op: '-', arg, start, end: arg.end };
  }

  private primary(): Expr {
    const token = this.token;
    switch (token.type) {
      case 'number':
        this.index++;
        return { kind: 'number', text: token.text, start: token.start, end: token.end };
      case 'string':
        this.index++;
        return { kind: 'string', value: token.value, start: token.start, end: token.end };
      case 'temporal':
        this.index++;
        return { kind: 'temporal', text: token.text, start: token.start, end: token.end };
      case 'variable':
        this.index++;
        return { kind: 'variable', name: token.name, start: token.start, end: token.end };
      case 'ident':
        return this.nameOrCall(token);
      case 'punct':
        if (token.text === '(') {
          this.index++;
          const inner = this.nested(() => this.or());
          const close = this.expectPunct(')', '")" to close the parenthesis');
          return { ...inner, start: token.start, end: close.end };
        }
        return this.fail(token, 'a value, a field, a function or "("');
      case 'end':
        return this.fail(token, 'a value, a field, a function or "("');
    }
  }

  private nameOrCall(first: Extract<Token, { type: 'ident' }>): Expr {
    this.index++;
    const lower = first.text.toLowerCase();
    if (lower === 'true' || lower === 'false') {
      return { kind: 'boolean', value: lower === 'true', start: first.start, end: first.end };
    }
    if (lower === 'null') return { kind: 'null', start: first.start, end: first.end };
    if (KEYWORDS.has(lower)) this.fail(first, 'a value, a field, a function or "("');
    if (this.isPunct('(')) {
      this.index++;
      const args: Expr[] = [];
      if (!this.isPunct(')')) {
        for (;;) {
          args.push(this.nested(() => this.or()));
          if (this.isPunct(',')) {
            this.index++;
            continue;
          }
          break;
        }
      }
      const close = this.expectPunct(')', `"," or ")" to close ${first.text}(`);
      return { kind: 'call', name: first.text, args, start: first.start, end: close.end };
    }
    const path = [first.text.replace(/^@/, '')];
    let end = first.end;
    while (this.isPunct('.')) {
      this.index++;
      const next = this.token;
      if (next.type !== 'ident') this.fail(next, 'a field name after "."');
      path.push(next.text.replace(/^@/, ''));
      end = next.end;
      this.index++;
    }
    // `vars.name` is the other spelling of `$(vars/@name)`.
    if (path[0] === 'vars' && path.length === 2) {
      return { kind: 'variable', name: path[1]!, start: first.start, end };
    }
    return { kind: 'field', path, start: first.start, end };
  }
}

export function parseExpression(source: string): Expr {
  if (source.length > MAX_EXPRESSION_LENGTH) {
    throw new ExpressionError(
      source.slice(0, 40),
      0,
      `expressions are limited to ${MAX_EXPRESSION_LENGTH} characters`,
    );
  }
  if (source.trim() === '') throw new ExpressionError(source, 0, 'the expression is empty');
  return new Parser(source, tokenize(source)).parseAll();
}
