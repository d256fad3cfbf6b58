// Module resolution hook for the harness: a test file's `import ... from 'uvu'` resolves to
// support/uvu-tracked.js. The tracked module itself gets the real uvu.

const tracked = new URL('./uvu-tracked.js', import.meta.url).href;

interface ResolveContext {
  parentURL?: string;
}
type NextResolve = (specifier: string, context: ResolveContext) => Promise<{ url: string }>;

export async function resolve(
  specifier: string,
  context: ResolveContext,
  next: NextResolve,
): Promise<{ url: string; shortCircuit?: boolean }> {
  if (specifier === 'uvu' && context.parentURL !== tracked) return { url: tracked, shortCircuit: true };
  return next(specifier, context);
}
