// A trampoline for recursive code over the pipeline's nesting (pipe/over/map
// inside each other): recursive steps are generators that `yield` the
// sub-computation they need and receive its result, and runCo drives them
// with an explicit stack. Nesting depth then costs heap, not call stack, so a
// pipeline nested 100,000 levels deep (JSON.parse accepts it) still works.
export type Co<T> = Generator<Co<unknown>, T, unknown>;

export function runCo<T>(root: Co<T>): T {
  const stack: Co<unknown>[] = [root];
  let input: unknown;
  let pending: { error: unknown } | undefined;
  for (;;) {
    const top = stack[stack.length - 1];
    let r: IteratorResult<Co<unknown>, unknown>;
    try {
      if (pending !== undefined) {
        const { error } = pending;
        pending = undefined;
        r = top.throw(error);
      } else {
        r = top.next(input);
      }
    } catch (e) {
      stack.pop();
      if (stack.length === 0) throw e;
      pending = { error: e };
      continue;
    }
    if (r.done) {
      stack.pop();
      if (stack.length === 0) return r.value as T;
      input = r.value;
    } else {
      stack.push(r.value);
      input = undefined;
    }
  }
}
