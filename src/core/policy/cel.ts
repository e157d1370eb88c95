import { Environment } from "@marcbachmann/cel-js";
import type { z } from "zod";
import { AgentEvent } from "../../protocol/event.js";
import { RuleBaseline, RuleEventExtras, RuleSession } from "../../protocol/policy.js";

// Rule conditions in CEL (cel.dev) through @marcbachmann/cel-js: chosen over @bufbuild/cel
// for load-time type checking with exact error positions and ~8x faster evaluation (see
// docs/policy.md). JSON numbers are CEL doubles; `matches` uses JS RegExp, so policy
// authors are trusted (a pathological regex costs time, not correctness).
//
// A condition is checked when the policy loads against the declared types of its variables,
// derived from the zod schemas (the event contract, RuleEventExtras, RuleSession,
// RuleBaseline): a misspelt field would otherwise read as a runtime error, which counts as
// "no match", and the rule would never fire. It is evaluated in an environment of `dyn`
// variables, as before: checking changes what loads, never what a loaded rule answers.

export type Evaluation = { ok: true; value: boolean } | { ok: false; error: string };

export interface Condition {
  readonly source: string;
  evaluate(vars: { event: unknown; session: unknown; baseline: unknown }): Evaluation;
}

/** What a condition failed on: the message, and where in the condition's text when known. */
export interface ConditionError {
  readonly ok: false;
  readonly error: string;
  /** Offset of the offending token in the condition's source. */
  readonly offset?: number;
}

/** The type of a value a condition can read, as far as a typo can be told from it. */
export type Shape =
  | { readonly kind: "object"; readonly fields: ReadonlyMap<string, Shape> }
  | { readonly kind: "map"; readonly value: Shape }
  | { readonly kind: "list"; readonly element: Shape }
  /** `values`: the only strings it can hold (an enum or literals), when closed. */
  | { readonly kind: "string"; readonly values?: ReadonlySet<string> }
  | { readonly kind: "double" | "bool" | "dyn" };

type ObjectShape = Extract<Shape, { kind: "object" }>;

const DYN: Shape = { kind: "dyn" };
const STRING: Shape = { kind: "string" };
const DOUBLE: Shape = { kind: "double" };
const BOOL: Shape = { kind: "bool" };

interface ZodDef {
  readonly type: string;
  readonly shape?: Readonly<Record<string, z.ZodType>>;
  readonly element?: z.ZodType;
  readonly valueType?: z.ZodType;
  readonly innerType?: z.ZodType;
  readonly options?: readonly z.ZodType[];
  readonly items?: readonly z.ZodType[];
  readonly rest?: z.ZodType | null;
  readonly entries?: Readonly<Record<string, string | number>>;
  readonly values?: readonly unknown[];
  readonly out?: z.ZodType;
}
const defOf = (schema: z.ZodType): ZodDef => schema._zod.def as unknown as ZodDef;

/** Two shapes a value may have (members of a union, the variants of the event): what reads are valid on either. */
function merge(a: Shape, b: Shape): Shape {
  if (a.kind !== b.kind || a.kind === "dyn") return DYN;
  switch (a.kind) {
    case "object": {
      const fields = new Map(a.fields);
      for (const [k, s] of (b as ObjectShape).fields) {
        const mine = fields.get(k);
        fields.set(k, mine ? merge(mine, s) : s);
      }
      return { kind: "object", fields };
    }
    case "list":
      return { kind: "list", element: merge(a.element, (b as typeof a).element) };
    case "map":
      return { kind: "map", value: merge(a.value, (b as typeof a).value) };
    case "string": {
      const other = (b as typeof a).values;
      return a.values && other ? { kind: "string", values: new Set([...a.values, ...other]) } : STRING;
    }
    default:
      return a;
  }
}

/** The shape of the values a zod schema accepts (after parsing: defaults applied, unknown keys stripped). Anything unrecognised reads as `dyn`. */
export function shapeOf(schema: z.ZodType): Shape {
  const def = defOf(schema);
  switch (def.type) {
    case "object":
      return { kind: "object", fields: new Map(Object.entries(def.shape ?? {}).map(([k, v]) => [k, shapeOf(v)])) };
    case "array":
      return def.element ? { kind: "list", element: shapeOf(def.element) } : DYN;
    case "tuple": {
      const items = [...(def.items ?? []), ...(def.rest ? [def.rest] : [])].map(shapeOf);
      return { kind: "list", element: items.length > 0 ? items.reduce(merge) : DYN };
    }
    case "record":
      return def.valueType ? { kind: "map", value: shapeOf(def.valueType) } : DYN;
    case "optional":
    case "nullable":
    case "default":
    case "prefault":
    case "readonly":
    case "nonoptional":
    case "catch":
      return def.innerType ? shapeOf(def.innerType) : DYN;
    case "union": {
      const options = (def.options ?? []).map(shapeOf);
      return options.length > 0 ? options.reduce(merge) : DYN;
    }
    case "enum":
      return { kind: "string", values: new Set(Object.values(def.entries ?? {}).map(String)) };
    case "literal": {
      const values = def.values ?? [];
      if (values.length > 0 && values.every((v) => typeof v === "string")) return { kind: "string", values: new Set(values as string[]) };
      if (values.every((v) => typeof v === "boolean")) return BOOL;
      return values.every((v) => typeof v === "number") ? DOUBLE : DYN;
    }
    case "string":
      return STRING;
    case "number":
      return DOUBLE;
    case "boolean":
      return BOOL;
    case "pipe":
      // What a transform returns is not declared.
      return def.out && defOf(def.out).type !== "transform" ? shapeOf(def.out) : DYN;
    default:
      return DYN;
  }
}

/** `base` with `extras`' fields added or replacing its own. */
function overlay(base: Shape, extras: Shape): ObjectShape {
  if (base.kind !== "object" || extras.kind !== "object") throw new Error("overlay of a non-object shape");
  return { kind: "object", fields: new Map([...base.fields, ...extras.fields]) };
}

const ROOTS: ReadonlyMap<string, Shape> = new Map<string, Shape>([
  ["event", overlay(shapeOf(AgentEvent), shapeOf(RuleEventExtras))],
  ["session", shapeOf(RuleSession)],
  ["baseline", shapeOf(RuleBaseline)],
]);

/** The declared shape of each rule variable (`event`, `session`, `baseline`). */
export const ruleVariableShapes = (): ReadonlyMap<string, Shape> => ROOTS;

const options = { homogeneousAggregateLiterals: false } as const;

/** Where conditions run: untyped variables, so a rule reads the values exactly as given. */
const env = new Environment(options).registerVariable("event", "dyn").registerVariable("session", "dyn").registerVariable("baseline", "dyn");

/** Where conditions are checked: each variable declared with its shape's fields. Object types are named `vigil.<path>`. */
const checkEnv = new Environment(options);
const TYPE_PREFIX = "vigil.";
/** The object types registered in checkEnv, by name. */
const objectTypes = new Map<string, ObjectShape>();
function celType(shape: Shape, path: string): string {
  switch (shape.kind) {
    case "object": {
      const name = `${TYPE_PREFIX}${path}`;
      if (objectTypes.has(name)) throw new Error(`two object types at ${path}`);
      const fields: Record<string, string> = {};
      for (const [k, s] of shape.fields) fields[k] = celType(s, `${path}.${k}`);
      checkEnv.registerType(name, { fields });
      objectTypes.set(name, shape);
      return name;
    }
    case "list":
      return `list<${celType(shape.element, `${path}._item`)}>`;
    case "map":
      return `map<string, ${celType(shape.value, `${path}._value`)}>`;
    default:
      return shape.kind;
  }
}
for (const [name, shape] of ROOTS) checkEnv.registerVariable(name, celType(shape, name));
// JSON numbers are doubles: a double compared with an int literal is not a type error, and
// evaluates (untyped) as CEL's heterogeneous equality says (test/core/policy-typos.test.ts).
// The handlers only satisfy the registry: checkEnv evaluates nothing.
const never = (): boolean => false;
checkEnv.registerOperator("double == int", never);
checkEnv.registerOperator("double in list<int>", never);
checkEnv.registerOperator("int in list<double>", never);

/** The parsed expression tree of @marcbachmann/cel-js (lib/parser.js), as far as it is read here. */
interface AstNode {
  readonly op: string;
  readonly args: unknown;
  readonly pos: number;
  readonly checkedType?: { readonly name: string };
}
type Scope = ReadonlyMap<string, Shape | undefined>;
const isNode = (v: unknown): v is AstNode => typeof v === "object" && v !== null && typeof (v as AstNode).op === "string";
const argsOf = (n: AstNode): readonly unknown[] => (Array.isArray(n.args) ? n.args : [n.args]);
const stringValue = (n: unknown): string | undefined => (isNode(n) && n.op === "value" && typeof n.args === "string" ? n.args : undefined);
/** The key of a field read: `a.key` or `a["key"]`. */
function keyOf(n: AstNode): string | undefined {
  const key = argsOf(n)[1];
  if (n.op === ".") return typeof key === "string" ? key : undefined;
  return n.op === "[]" ? stringValue(key) : undefined;
}
/** The nodes in an `args` value (a node, or nested lists of them). */
function nodesIn(v: unknown, out: AstNode[] = []): AstNode[] {
  if (isNode(v)) out.push(v);
  else if (Array.isArray(v)) for (const x of v) nodesIn(x, out);
  return out;
}

/** `event.action.kind` for a chain of field reads from a variable; undefined for anything else. */
function pathOf(n: AstNode): string | undefined {
  if (n.op === "id") return typeof n.args === "string" ? n.args : undefined;
  const key = keyOf(n);
  const parent = argsOf(n)[0];
  const base = key !== undefined && isNode(parent) ? pathOf(parent) : undefined;
  return base === undefined ? undefined : `${base}.${key}`;
}

/** Edit distance, for suggestions (words are short: field names, reason codes). */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length] as number;
}

/** The candidate closest to `word` when it is close enough to be what was meant: at most a third of its letters (1 to 3) differ. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const limit = Math.min(3, Math.max(1, Math.floor(word.length / 3)));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const c of candidates) {
    if (Math.abs(c.length - word.length) >= bestDistance) continue;
    const d = distance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

/** The macros that bind iteration variables: `list.exists(x, …)`, `map.all(k, …)`, … */
const COMPREHENSIONS = new Set(["all", "exists", "exists_one", "map", "filter"]);

/**
 * What the CEL checker leaves out, on a checked tree: fields read inside `has()` (the checker
 * looks only at its variable) and string literals compared with a field that can hold only
 * some strings (`event.type == "actoin"` is never true). One pass; each node is resolved once.
 */
function lint(root: AstNode): ConditionError | undefined {
  const shapes = new Map<AstNode, Shape | undefined>();
  // The same node is always resolved in the same scope: the scope of its position in the tree.
  const shapeAt = (n: AstNode, scope: Scope): Shape | undefined => {
    if (shapes.has(n)) return shapes.get(n);
    let shape: Shape | undefined;
    if (n.op === "id" && typeof n.args === "string") shape = scope.has(n.args) ? scope.get(n.args) : ROOTS.get(n.args);
    else if (n.op === "." || n.op === "[]") {
      const parent = argsOf(n)[0];
      const of = isNode(parent) ? shapeAt(parent, scope) : undefined;
      const key = keyOf(n);
      if (of?.kind === "object" && key !== undefined) shape = of.fields.get(key);
      else if (of?.kind === "map") shape = of.value;
      else if (of?.kind === "list" && n.op === "[]") shape = of.element;
    }
    shapes.set(n, shape);
    return shape;
  };
  const neverValue = (field: AstNode, literal: unknown, scope: Scope): ConditionError | undefined => {
    const value = stringValue(literal);
    if (value === undefined || value === "") return undefined;
    const shape = shapeAt(field, scope);
    if (shape?.kind !== "string" || !shape.values || shape.values.has(value)) return undefined;
    const near = closest(value, shape.values);
    const hint = near ? `; did you mean "${near}"?` : ` (it is one of "${[...shape.values].join('", "')}")`;
    return { ok: false, error: `${pathOf(field) ?? "the field"} is never "${value}"${hint}`, offset: (literal as AstNode).pos };
  };
  const visit = (n: AstNode, scope: Scope): ConditionError | undefined => {
    const args = argsOf(n);
    if (n.op === "call" && args[0] === "has") {
      // Every read on the way, from the variable out: the first unknown one is the typo.
      const chain: AstNode[] = [];
      for (let f: unknown = nodesIn(args[1])[0]; isNode(f) && (f.op === "." || f.op === "[]"); f = argsOf(f)[0]) chain.unshift(f);
      for (const field of chain) {
        const parent = argsOf(field)[0] as AstNode;
        const key = keyOf(field);
        const of = shapeAt(parent, scope);
        if (of?.kind === "object" && key !== undefined && !of.fields.has(key)) return unknownField(parent, key, of, field.pos);
      }
    } else if (n.op === "==" || n.op === "!=") {
      const [l, r] = args;
      const found = (isNode(l) ? neverValue(l, r, scope) : undefined) ?? (isNode(r) ? neverValue(r, l, scope) : undefined);
      if (found) return found;
    } else if (n.op === "in" && isNode(args[0]) && isNode(args[1]) && args[1].op === "list") {
      for (const item of nodesIn(args[1].args)) {
        const found = neverValue(args[0], item, scope);
        if (found) return found;
      }
    }
    let inner = scope;
    let nodes = nodesIn(n.args);
    if (n.op === "rcall" && typeof args[0] === "string" && COMPREHENSIONS.has(args[0]) && isNode(args[1])) {
      // The iteration variables shadow the rule variables; a list's only variable is its element.
      const found = visit(args[1], scope);
      if (found) return found;
      const of = shapeAt(args[1], scope);
      nodes = nodesIn(args[2]);
      const vars = nodes.slice(0, -1).filter((v) => v.op === "id" && typeof v.args === "string");
      const next = new Map(scope);
      for (const v of vars) next.set(v.args as string, vars.length === 1 && of?.kind === "list" ? of.element : undefined);
      inner = next;
    }
    for (const c of nodes) {
      const found = visit(c, inner);
      if (found) return found;
    }
    return undefined;
  };
  return visit(root, new Map());
}

function unknownField(parent: AstNode, key: string, of: Shape | undefined, offset: number): ConditionError {
  const base = pathOf(parent);
  const near = of?.kind === "object" ? closest(key, of.fields.keys()) : undefined;
  const where = base ?? (parent.checkedType ? readableType(parent.checkedType.name) : "the value");
  return { ok: false, error: `unknown field ${where}.${key}${near ? `; did you mean ${where}.${near}?` : ""}`, offset };
}

/** `vigil.event.action` → `event.action` (the declared object types are named by their path). */
const readableType = (name: string): string => (name.startsWith(TYPE_PREFIX) ? name.slice(TYPE_PREFIX.length) : name);

interface CelError {
  readonly code?: string;
  readonly summary?: string;
  readonly message?: string;
  readonly node?: AstNode;
  readonly range?: { readonly start: number };
}

function describe(e: unknown): ConditionError {
  const error = (typeof e === "object" && e !== null ? e : { message: String(e) }) as CelError;
  const node = error.node;
  if (error.code === "no_such_key" && node && (node.op === "." || node.op === "[]")) {
    const parent = argsOf(node)[0];
    const key = keyOf(node);
    if (isNode(parent) && key !== undefined) {
      const of = parent.checkedType ? objectTypes.get(parent.checkedType.name) : undefined;
      const at = node.op === "[]" && isNode(argsOf(node)[1]) ? (argsOf(node)[1] as AstNode).pos : (error.range?.start ?? node.pos);
      return unknownField(parent, key, of, at);
    }
  }
  if (error.code === "unknown_variable" && node?.op === "id" && typeof node.args === "string") {
    const near = closest(node.args, ROOTS.keys());
    return { ok: false, error: `unknown variable ${node.args}${near ? `; did you mean ${near}?` : ""}`, offset: node.pos };
  }
  const text = (error.summary ?? error.message ?? "error").split("\n")[0] ?? "error";
  const offset = error.range?.start ?? node?.pos;
  const readable = text.replace(/\bvigil\.[\w.]+/g, (name) => (objectTypes.has(name) ? readableType(name) : name));
  return { ok: false, error: readable, ...(offset !== undefined ? { offset } : {}) };
}

/** Why a condition is not valid against the declared variables, or undefined. */
function check(source: string): ConditionError | undefined {
  const typed = checkEnv.parse(source);
  const checked = typed.check();
  if (!checked.valid) return describe(checked.error);
  return lint(typed.ast as unknown as AstNode);
}

const firstLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split("\n")[0] ?? "error";

export function compileCondition(source: string): { ok: true; condition: Condition } | ConditionError {
  let program: ReturnType<typeof env.parse>;
  try {
    program = env.parse(source);
    const problem = check(source);
    if (problem) return problem;
    // Checked in its own environment too, before any evaluation: the evaluator otherwise
    // checks the tree on first use, against the values of that call.
    const untyped = program.check();
    if (!untyped.valid) return describe(untyped.error);
  } catch (e) {
    return describe(e);
  }
  return {
    ok: true,
    condition: {
      source,
      evaluate(vars) {
        try {
          const value = program(vars);
          return value === true ? { ok: true, value: true } : { ok: true, value: false };
        } catch (e) {
          return { ok: false, error: firstLine(e) };
        }
      },
    },
  };
}
