import { Liquid, LiquidError, Tag, type Template, type TagToken, type TopLevelToken } from 'liquidjs';
import { UserError, ValidationError, type Issue } from '../../errors.ts';

/**
 * The one place templates are parsed and rendered. Message content is written by campaign authors and
 * filled with customer data, so the engine is sandboxed: only own properties of the data are visible (no
 * `constructor`, no `__proto__`), nothing is read from disk (`include`, `render` and `layout` are refused
 * when the template is compiled), unknown filters are compile errors, and every render is bounded in
 * time, allocations and output size so one hostile template cannot stall a sending worker.
 */

/** HTML bodies escape every `{{ value }}` (`| raw` opts out); subjects, text, SMS and push do not. */
export type Escaping = 'html' | 'none';

/** Time one render may take: generous for a real message, short enough to stop a runaway loop. */
export const RENDER_LIMIT_MS = 200;
/** Allocations one render may make (liquidjs counts array and string building). */
export const MEMORY_LIMIT = 1_000_000;
/** Characters one rendered field may have: far above any real email, far below what hurts a worker. */
export const OUTPUT_LIMIT = 1_000_000;
/** Characters of template source. */
export const PARSE_LIMIT = 1_000_000;

export interface CompiledTemplate {
  render(context: object): Promise<string>;
}

/** A template that failed while rendering one message: a limit was hit. The message fails with this reason. */
export class TemplateRenderError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateRenderError';
  }
}

class RefusedFileTag extends Tag {
  constructor(token: TagToken, remainTokens: TopLevelToken[], liquid: Liquid) {
    super(token, remainTokens, liquid);
    throw new Error(`{% ${token.name} %} is not available: templates cannot read other files`);
  }

  *render(): Generator<unknown, void> {}
}

function createEngine(escaping: Escaping): Liquid {
  const engine = new Liquid({
    ownPropertyOnly: true,
    strictFilters: true,
    strictVariables: false,
    // An empty in-memory file system: even if a file tag slipped through, it would find nothing on disk.
    templates: {},
    outputEscape: escaping === 'html' ? 'escape' : undefined,
    parseLimit: PARSE_LIMIT,
    renderLimit: RENDER_LIMIT_MS,
    memoryLimit: MEMORY_LIMIT,
    // Dates are rendered the same wherever the worker runs: in UTC, with English names.
    timezoneOffset: 0,
    locale: 'en-US',
  });
  for (const name of ['include', 'render', 'layout']) engine.registerTag(name, RefusedFileTag);
  return engine;
}

const engines: Record<Escaping, Liquid> = { html: createEngine('html'), none: createEngine('none') };

/**
 * Parses one template; a syntax error becomes a TemplateSyntaxError naming the line and column. Parse
 * once, render many times: the compiled template holds the parsed tree.
 */
export function compileTemplate(source: string, escaping: Escaping): CompiledTemplate {
  const engine = engines[escaping];
  const parsed: Template[] = engine.parse(source);
  return {
    async render(context) {
      let output: string;
      try {
        output = (await engine.render(parsed, context)) as string;
      } catch (error) {
        throw new TemplateRenderError(describe(error));
      }
      if (output.length > OUTPUT_LIMIT) {
        throw new TemplateRenderError(
          `the rendered text is longer than ${OUTPUT_LIMIT.toLocaleString('en-US')} characters`,
        );
      }
      return output;
    },
  };
}

/**
 * Compiles the templates of one message's fields, reporting every field that does not parse (path = the
 * config key, `subject`, `html`…) in one ValidationError.
 */
export function compileTemplates<K extends string>(
  what: string,
  fields: Record<K, { source: string; escaping: Escaping } | undefined>,
): Record<K, CompiledTemplate | undefined> {
  const issues: Issue[] = [];
  const out = {} as Record<K, CompiledTemplate | undefined>;
  for (const key of Object.keys(fields) as K[]) {
    const field = fields[key];
    if (!field) continue;
    try {
      out[key] = compileTemplate(field.source, field.escaping);
    } catch (error) {
      issues.push({ path: key, message: describe(error) });
    }
  }
  if (issues.length > 0) throw new ValidationError(what, issues);
  return out;
}

/** A liquidjs error said plainly, with where it is: "unknown filter: bogus (line 2, column 6)". */
function describe(error: unknown): string {
  if (!(error instanceof LiquidError)) throw error;
  const cause = error.originalError?.message ?? error.message.replace(/, line:\d+, col:\d+$/, '');
  const [line, column] = error.token.getPosition();
  const message = LIMITS[cause] ?? cause;
  return `${message} (line ${line}, column ${column})`;
}

const LIMITS: Record<string, string> = {
  'template render limit exceeded': `rendering took longer than ${RENDER_LIMIT_MS} ms (a loop too long?)`,
  'memory alloc limit exceeded': 'rendering built too much data (a loop or a range too large?)',
};
